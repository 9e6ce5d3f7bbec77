package dev.ferry.api;

import java.util.regex.Pattern;

/** The one rule for names a user gives (VMs, hosts, pools): safe in paths, URLs and QEMU options. */
public final class Names {

  public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
  public static final String RULE = "1-63 characters: lower-case letters, digits and '-', not starting with '-'";

  private Names() {}

  public static boolean valid(String name) {
    return name != null && NAME.matcher(name).matches();
  }

  /** Throws IllegalArgumentException naming the field, the value and what is allowed. */
  public static String require(String field, String name) {
    if (!valid(name)) {
      throw new IllegalArgumentException(field + " '" + name + "' is not valid: " + RULE);
    }
    return name;
  }
}
