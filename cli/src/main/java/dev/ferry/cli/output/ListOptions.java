package dev.ferry.cli.output;

import dev.ferry.api.Paging;
import dev.ferry.cli.CliException;

/** The paging options every {@code list} command shares, checked before any request. */
public final class ListOptions {

  private ListOptions() {}

  public static void check(Integer limit, String after) {
    if (limit != null && (limit < 1 || limit > Paging.MAX_LIMIT)) {
      throw CliException.usage("--limit '" + limit + "' is not valid: a whole number from 1 to " + Paging.MAX_LIMIT);
    }
    if (after != null && limit == null) {
      throw CliException.usage("--after needs --limit: it names where the page of --limit items starts");
    }
  }
}
