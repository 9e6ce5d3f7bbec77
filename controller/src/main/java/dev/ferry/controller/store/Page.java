package dev.ferry.controller.store;

/**
 * A slice of a list endpoint: the {@code limit} items after the cursor {@code after} (null: from
 * the start) in the list's order. Items are never skipped or repeated between pages while the
 * list grows, because the cursor is an item's key, not an offset.
 */
public record Page(String after, int limit) {

  /** a page never holds more: an answer of a few MB at most, whatever the cluster's size */
  public static final int MAX_LIMIT = dev.ferry.api.Paging.MAX_LIMIT;
  /** what a request without {@code limit} gets; a small cluster's list fits in one page, as before paging */
  public static final int DEFAULT_LIMIT = MAX_LIMIT;

  public Page {
    if (limit < 1 || limit > MAX_LIMIT) throw new IllegalArgumentException("limit " + limit + " is not in 1-" + MAX_LIMIT);
  }

  public static Page first() {
    return new Page(null, DEFAULT_LIMIT);
  }
}
