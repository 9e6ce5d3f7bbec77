package dev.ferry.cli.ca;

import dev.ferry.cli.CliException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x509.GeneralName;

/** One name a node certificate is valid for: an IP address or a DNS name, told apart by their spelling. */
record SubjectAltName(boolean ip, String text) {

  private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
  private static final Pattern IPV6 = Pattern.compile("[0-9a-fA-F:.]+");
  private static final Pattern DNS = Pattern.compile("(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*");

  static SubjectAltName parse(String text) {
    String t = text == null ? "" : text.strip();
    if (t.startsWith("[") && t.endsWith("]")) t = t.substring(1, t.length() - 1);
    if (IPV4.matcher(t).matches() || t.contains(":") && IPV6.matcher(t).matches()) return new SubjectAltName(true, t);
    if (DNS.matcher(t).matches()) return new SubjectAltName(false, t.toLowerCase(java.util.Locale.ROOT));
    throw CliException.usage("subject alternative name '" + text + "' is not valid: an IPv4 or IPv6 address or a DNS"
        + " name (letters, digits, '-', '.')");
  }

  /** The node's own name first, then each of {@code sans} once. */
  static List<SubjectAltName> all(String name, List<String> sans) {
    Set<SubjectAltName> out = new LinkedHashSet<>();
    out.add(parse(name));
    for (String s : sans) out.add(parse(s));
    return new ArrayList<>(out);
  }

  GeneralName generalName() {
    return new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, text);
  }
}
