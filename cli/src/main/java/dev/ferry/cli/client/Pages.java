package dev.ferry.cli.client;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.ferry.api.Paging;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Reads a paged list endpoint: one page when the user gave {@code --limit}, otherwise every page
 * in turn (each after the last key of the one before), so a plain {@code list} still shows all.
 */
public final class Pages {

  private Pages() {}

  /** One page of at most {@code limit} items after {@code after} (null: from the start). */
  public static <T> List<T> one(ControllerClient api, String path, Map<String, String> filters, int limit, String after,
      TypeReference<List<T>> type) {
    return api.get(target(path, filters, limit, after), type);
  }

  /** Every item, page by page. */
  public static <T> List<T> all(ControllerClient api, String path, Map<String, String> filters,
      TypeReference<List<T>> type, Function<T, String> key) {
    List<T> all = new ArrayList<>();
    String after = null;
    while (true) {
      List<T> page = api.get(target(path, filters, after == null ? 0 : Paging.MAX_LIMIT, after), type);
      all.addAll(page);
      if (page.size() < Paging.MAX_LIMIT) return all;
      after = key.apply(page.getLast());
    }
  }

  /** {@code path?k=v&…}; a limit of 0 leaves it out (the controller's default). */
  static String target(String path, Map<String, String> filters, int limit, String after) {
    Map<String, String> q = new LinkedHashMap<>();
    filters.forEach((k, v) -> {
      if (v != null) q.put(k, v);
    });
    if (limit > 0) q.put("limit", String.valueOf(limit));
    if (after != null) q.put("after", after);
    if (q.isEmpty()) return path;
    StringBuilder b = new StringBuilder(path);
    char sep = '?';
    for (var e : q.entrySet()) {
      b.append(sep).append(e.getKey()).append('=').append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8));
      sep = '&';
    }
    return b.toString();
  }
}
