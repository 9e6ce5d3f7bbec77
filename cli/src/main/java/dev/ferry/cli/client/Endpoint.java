package dev.ferry.cli.client;

import dev.ferry.cli.CliContext;
import dev.ferry.cli.CliException;
import dev.ferry.cli.cluster.ClusterFile;
import dev.ferry.api.auth.SecretFile;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the controller is, the token to show it and the CA to check its certificate against,
 * resolved per the cluster contract, each independently: the flag ({@code --token-file} for the
 * token: never the token itself), else the environment
 * ({@code FERRY_CONTROLLER}, {@code FERRY_TOKEN}, {@code FERRY_CA}), else the cluster directory's
 * {@code cluster.json} with its token file and {@code ca_file}. Token files must be 0600 (or 0400):
 * one others can read is refused.
 *
 * @param caFile the cluster CA certificate an {@code https} controller must present a certificate
 *     of; null trusts the JDK's public roots (a controller with a publicly signed certificate)
 */
public record Endpoint(URI url, String token, Path caFile) {

  public Endpoint(URI url, String token) {
    this(url, token, null);
  }

  public static Endpoint resolve(String flagUrl, Path flagTokenFile, CliContext ctx) {
    return resolve(flagUrl, flagTokenFile, null, ctx);
  }

  public static Endpoint resolve(String flagUrl, Path flagTokenFile, String flagCa, CliContext ctx) {
    Path dir = ctx.clusterDir();
    // read lazily: a user with flags or env must not trip over a broken cluster directory
    java.util.function.Supplier<ClusterFile> cluster = () -> ClusterFile.read(dir).orElse(null);

    String url = first(flagUrl, ctx.env("FERRY_CONTROLLER"));
    if (url == null) {
      ClusterFile file = cluster.get();
      url = file == null ? null : file.controllerUrl();
    }
    if (url == null) {
      throw new CliException(CliException.Kind.CONFIG,
          "no controller configured: pass --controller URL or set FERRY_CONTROLLER, or start a local"
              + " cluster with 'ferry cluster up' (no " + dir.resolve(ClusterFile.NAME) + ")");
    }

    String token = flagTokenFile != null ? readToken(ctx.cwd().resolve(flagTokenFile)) : ctx.env("FERRY_TOKEN");
    if (token == null) {
      ClusterFile file = cluster.get();
      token = file == null || file.tokenFile() == null ? null : readToken(Path.of(file.tokenFile()));
    }
    if (token == null) {
      throw new CliException(CliException.Kind.CONFIG,
          "no token for the controller at " + url + ": pass --token-file FILE or set FERRY_TOKEN, or start a"
              + " local cluster with 'ferry cluster up'");
    }
    String ca = first(flagCa, ctx.env("FERRY_CA"));
    if (ca == null) {
      ClusterFile file = cluster.get();
      ca = file == null ? null : file.caFile();
    }
    Path caFile = ca == null ? null : ctx.cwd().resolve(ca);
    if (caFile != null && !Files.isRegularFile(caFile)) {
      throw new CliException(CliException.Kind.CONFIG, "the CA certificate " + caFile + " does not exist (from "
          + (flagCa != null ? "--ca" : ctx.env("FERRY_CA") != null ? "FERRY_CA" : dir.resolve(ClusterFile.NAME)) + ")");
    }
    return new Endpoint(parseUrl(url), token, caFile);
  }

  /** The token in {@code tokenFile}; refused when the file is missing, empty or readable by others. */
  public static String readToken(Path tokenFile) {
    try {
      return SecretFile.read(tokenFile);
    } catch (SecretFile.Refused e) {
      String hint = Files.exists(tokenFile) ? "" : " (is the cluster running? start it with 'ferry cluster up')";
      throw new CliException(CliException.Kind.CONFIG, "token file: " + e.getMessage() + hint, e);
    }
  }

  private static URI parseUrl(String url) {
    try {
      URI uri = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
      if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
        throw new IllegalArgumentException("not an http(s) URL");
      }
      return uri;
    } catch (IllegalArgumentException e) {
      throw CliException.usage("controller URL '" + url + "' is not valid: an http(s) URL such as"
          + " http://127.0.0.1:8080 is allowed");
    }
  }

  private static String first(String a, String b) {
    return a != null && !a.isBlank() ? a : b;
  }
}
