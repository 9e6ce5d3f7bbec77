package dev.ferry.cli.ca;

import dev.ferry.api.tls.TlsContexts;
import dev.ferry.cli.CliException;
import dev.ferry.api.tls.TlsDir;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.security.interfaces.ECPrivateKey;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * One cluster's certificate authority: an EC P-256 key and a self-signed certificate in a 0700
 * directory ({@code ca-cert.pem}, {@code ca-key.pem} 0600). It signs one certificate per node
 * (controller, each agent) that serves both ends of every connection the node makes: HTTPS
 * server and client, QEMU migration and NBD server and client. The JDK makes the keys and checks
 * the signatures; Bouncy Castle only builds the X.509 structures.
 *
 * <p>A node certificate's subject is {@code CN=NAME} alone: QEMU's {@code authz-simple} compares
 * the whole distinguished name as GnuTLS prints it, and one RDN prints the same in every order.
 * Its key usage holds keyEncipherment beside digitalSignature because QEMU's certificate sanity
 * check asks for both.
 */
public record ClusterCa(Path dir, X509Certificate certificate, PrivateKey key) {

  public static final String CA_CERT = "ca-cert.pem";
  public static final String CA_KEY = "ca-key.pem";
  static final Duration CA_VALIDITY = Duration.ofDays(3650);
  static final Duration NODE_VALIDITY = Duration.ofDays(825);
  /** a clock a little behind on another host must not see a certificate from the future */
  static final Duration BACKDATE = Duration.ofHours(1);
  private static final SecureRandom RANDOM = new SecureRandom();

  /** A new CA in {@code dir}; refused when the directory already holds one (it would orphan every node certificate). */
  public static ClusterCa init(Path dir, String name) {
    dir = dir.toAbsolutePath().normalize();
    if (Files.exists(dir.resolve(CA_KEY))) {
      throw CliException.local(dir + " already holds a CA (" + CA_KEY + "); use it, or choose another directory", null);
    }
    try {
      Pem.privateDir(dir);
      KeyPair keys = newKeyPair();
      X500Name subject = new X500Name("CN=" + name);
      Instant now = Instant.now();
      var builder = new JcaX509v3CertificateBuilder(subject, serial(), Date.from(now.minus(BACKDATE)),
          Date.from(now.plus(CA_VALIDITY)), subject, keys.getPublic());
      var ext = new JcaX509ExtensionUtils();
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
      builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      builder.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
      X509Certificate cert = sign(builder, keys.getPrivate());
      Pem.write(dir.resolve(CA_KEY), Pem.encode("PRIVATE KEY", pkcs8(keys)), Pem.SECRET);
      Pem.write(dir.resolve(CA_CERT), Pem.encode("CERTIFICATE", cert.getEncoded()), Pem.PUBLIC);
      return new ClusterCa(dir, cert, keys.getPrivate());
    } catch (IOException | GeneralSecurityException e) {
      throw CliException.local("cannot create a CA in " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The CA in {@code dir}. */
  public static ClusterCa load(Path dir) {
    dir = dir.toAbsolutePath().normalize();
    if (!Files.isRegularFile(dir.resolve(CA_KEY)) || !Files.isRegularFile(dir.resolve(CA_CERT))) {
      throw CliException.local("no CA in " + dir + " (it needs " + CA_CERT + " and " + CA_KEY
          + "; create one with 'ferry ca init " + dir + "')", null);
    }
    try {
      X509Certificate cert = TlsContexts.certificates(dir.resolve(CA_CERT)).getFirst();
      return new ClusterCa(dir, cert, readKey(dir.resolve(CA_KEY)));
    } catch (IOException | GeneralSecurityException e) {
      throw CliException.local("cannot read the CA in " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The CA of {@code dir}, created on first use. */
  public static ClusterCa loadOrInit(Path dir, String name) {
    return Files.exists(dir.resolve(CA_KEY)) ? load(dir) : init(dir, name);
  }

  public Path certFile() {
    return dir.resolve(CA_CERT);
  }

  /**
   * A certificate for node {@code name} valid for {@code name} and every one of {@code sans} (IP
   * addresses or DNS names), written with a new key into {@code out} in the {@link TlsDir} layout.
   */
  public Issued issue(String name, List<String> sans, Path out) {
    List<SubjectAltName> names = SubjectAltName.all(name, sans);
    try {
      TlsDir tls = new TlsDir(Pem.privateDir(out.toAbsolutePath().normalize()));
      KeyPair keys = newKeyPair();
      Instant now = Instant.now();
      var builder = new JcaX509v3CertificateBuilder(certificate, serial(), Date.from(now.minus(BACKDATE)),
          Date.from(now.plus(NODE_VALIDITY)), new X500Name("CN=" + name), keys.getPublic());
      var ext = new JcaX509ExtensionUtils();
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      builder.addExtension(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      builder.addExtension(Extension.extendedKeyUsage, false,
          new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      builder.addExtension(Extension.subjectAlternativeName, false,
          new GeneralNames(names.stream().map(SubjectAltName::generalName).toArray(GeneralName[]::new)));
      builder.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
      builder.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(certificate));
      X509Certificate cert = sign(builder, key);
      String certPem = Pem.encode("CERTIFICATE", cert.getEncoded());
      String keyPem = Pem.encode("PRIVATE KEY", pkcs8(keys));
      Pem.write(tls.caCert(), Pem.encode("CERTIFICATE", certificate.getEncoded()), Pem.PUBLIC);
      Pem.write(tls.serverKey(), keyPem, Pem.SECRET);
      Pem.write(tls.clientKey(), keyPem, Pem.SECRET);
      Pem.write(tls.serverCert(), certPem, Pem.PUBLIC);
      Pem.write(tls.clientCert(), certPem, Pem.PUBLIC);
      return new Issued(name, tls, "CN=" + name, names.stream().map(SubjectAltName::text).toList(),
          cert.getNotAfter().toInstant(), fingerprint(cert));
    } catch (IOException | GeneralSecurityException e) {
      throw CliException.local("cannot issue a certificate for '" + name + "' into " + out + ": " + e.getMessage(), e);
    }
  }

  /** What {@link #issue} wrote. {@code subject} is what a peer's {@code tls-authz} names. */
  public record Issued(String name, TlsDir dir, String subject, List<String> sans, Instant notAfter,
      String fingerprintSha256) {}

  public static String fingerprint(X509Certificate cert) throws GeneralSecurityException {
    return HexFormat.ofDelimiter(":").withUpperCase()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
  }

  private static KeyPair newKeyPair() throws GeneralSecurityException {
    KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
    gen.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
    return gen.generateKeyPair();
  }

  /**
   * PKCS#8 with the public key inside the inner ECPrivateKey: the JDK leaves it out, and QEMU 7.2's
   * GnuTLS then refuses the key ("ASN1 parser: Element was not found").
   */
  static byte[] pkcs8(KeyPair keys) throws IOException {
    var jdk = PrivateKeyInfo.getInstance(keys.getPrivate().getEncoded());
    var pub = SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded());
    BigInteger s = ((ECPrivateKey) keys.getPrivate()).getS();
    var inner = new org.bouncycastle.asn1.sec.ECPrivateKey(256, s, pub.getPublicKeyData(), null);
    return new PrivateKeyInfo(jdk.getPrivateKeyAlgorithm(), inner).getEncoded();
  }

  private static BigInteger serial() {
    return new BigInteger(127, RANDOM).add(BigInteger.ONE);
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key) throws GeneralSecurityException {
    try {
      var signer = new JcaContentSignerBuilder("SHA256withECDSA").build(key);
      return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e.getMessage(), e);
    }
  }

  private static PrivateKey readKey(Path pem) throws IOException, GeneralSecurityException {
    String text = Files.readString(pem);
    String b64 = text.replaceAll("-----(BEGIN|END) PRIVATE KEY-----", "").replaceAll("\\s", "");
    return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(b64)));
  }
}
