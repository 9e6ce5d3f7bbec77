package dev.ferry.controller.rest;

import dev.ferry.api.MigrationStatus;
import dev.ferry.api.Names;
import dev.ferry.api.VmState;
import dev.ferry.controller.ControllerException;
import dev.ferry.controller.store.MigrationStore;
import dev.ferry.controller.store.Page;
import io.javalin.http.Context;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The query parameters of the list endpoints: {@code limit} and {@code after} (the key of the last
 * item of the previous page), plus filters. A full page answers a {@code Link: <…>; rel="next"}
 * header; a client can equally ask again with {@code after} = the last item's key until a page is
 * shorter than its limit.
 */
final class ListParams {

  private ListParams() {}

  static Page page(Context ctx) {
    String raw = ctx.queryParam("limit");
    int limit = Page.DEFAULT_LIMIT;
    if (raw != null) {
      try {
        limit = Integer.parseInt(raw.strip());
      } catch (NumberFormatException e) {
        limit = -1;
      }
      if (limit < 1 || limit > Page.MAX_LIMIT) {
        throw ControllerException.invalid("limit", raw, "a whole number from 1 to " + Page.MAX_LIMIT);
      }
    }
    String after = ctx.queryParam("after");
    return new Page(after == null || after.isBlank() ? null : after.strip(), limit);
  }

  static String host(Context ctx) {
    String host = ctx.queryParam("host");
    if (host == null) return null;
    if (!Names.valid(host)) throw ControllerException.invalid("host", host, Names.RULE);
    return host;
  }

  static VmState vmState(Context ctx) {
    return enumParam(ctx, "state", VmState.values(), VmState::valueOf);
  }

  static MigrationStore.Filter migrationFilter(Context ctx) {
    String vm = ctx.queryParam("vm");
    if (vm != null && !Names.valid(vm)) throw ControllerException.invalid("vm", vm, Names.RULE);
    String phase = ctx.queryParam("phase");
    String kind = ctx.queryParam("kind");
    if (kind != null && !List.of("live", "storage", "cold", "warm").contains(kind)) {
      throw ControllerException.invalid("kind", kind, "live, storage, cold or warm");
    }
    return new MigrationStore.Filter(vm, host(ctx),
        enumParam(ctx, "status", MigrationStatus.values(), MigrationStatus::valueOf),
        phase == null || phase.isBlank() ? null : phase.strip().toLowerCase(Locale.ROOT), kind);
  }

  /** Answers the page, with a {@code Link} to the next one when this one is full. */
  static <T> void answer(Context ctx, Page page, List<T> items, Function<T, String> key) {
    if (items.size() == page.limit()) {
      StringBuilder next = new StringBuilder(ctx.path()).append("?limit=").append(page.limit())
          .append("&after=").append(java.net.URLEncoder.encode(key.apply(items.getLast()), java.nio.charset.StandardCharsets.UTF_8));
      for (var e : ctx.queryParamMap().entrySet()) {
        if (e.getKey().equals("limit") || e.getKey().equals("after")) continue;
        for (String v : e.getValue()) {
          next.append('&').append(e.getKey()).append('=')
              .append(java.net.URLEncoder.encode(v, java.nio.charset.StandardCharsets.UTF_8));
        }
      }
      ctx.header("Link", "<" + next + ">; rel=\"next\"");
    }
    Responses.ok(ctx, 200, items);
  }

  private static <E extends Enum<E>> E enumParam(Context ctx, String name, E[] values, Function<String, E> parse) {
    String raw = ctx.queryParam(name);
    if (raw == null) return null;
    String allowed = Arrays.stream(values).map(v -> v.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", "));
    try {
      return parse.apply(raw.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw ControllerException.invalid(name, raw, "one of " + allowed);
    }
  }
}
