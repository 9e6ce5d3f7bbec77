package dev.ferry.api;

/**
 * Paging of the list endpoints ({@code GET /api/vms}, {@code GET /api/migrations}): query
 * parameters {@code limit} (1 to {@link #MAX_LIMIT}, default {@link #MAX_LIMIT}) and {@code after},
 * the key of the last item of the previous page (a VM's name, a migration's id). A page shorter
 * than its limit is the last; a full one also answers {@code Link: <next page>; rel="next"}.
 */
public final class Paging {

  /** a page never holds more items than this: an answer stays a few MB, whatever the cluster's size */
  public static final int MAX_LIMIT = 1000;

  private Paging() {}
}
