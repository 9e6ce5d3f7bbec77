package dev.ferry.agent.ft;

import dev.ferry.agent.AgentException;
import dev.ferry.agent.AgentException.Kind;
import dev.ferry.api.agent.FtNicPorts;
import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.QmpErrorException;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.export.NbdServerStart.Address;
import dev.ferry.qmp.object.ChardevAdd;
import dev.ferry.qmp.object.ChardevRemove;
import dev.ferry.qmp.object.ObjectAdd;
import dev.ferry.qmp.object.ObjectDel;
import dev.ferry.qmp.object.QomList;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * COLO's network proxy for each NIC (QEMU's docs/COLO-FT.txt, colo.md), so that no frame leaves
 * the pair before both guests produced it. NIC {@code i} is QEMU's netdev {@code net<i>}
 * ({@link dev.ferry.agent.qemu.QemuCommandLine}).
 *
 * <p>On the secondary: two socket servers on the replication address, a redirector feeding the
 * guest what arrives on the first (the frames the primary's guest received), a redirector sending
 * everything the guest transmits to the second, and a rewriter that keeps its TCP sequence numbers
 * in step with the primary's (kept after a takeover, for the connections that live on).
 *
 * <p>On the primary: a mirror of every received frame to the secondary, the guest's own frames
 * redirected into colo-compare through a local socket pair, and what colo-compare releases
 * injected back towards the tap. Filter order matters: received-direction filters run last-added
 * first, so the redirector that re-injects colo-compare's output comes before the one that takes
 * the guest's frames, or the released frames would be taken again.
 *
 * <p>Every removal looks first: an id QEMU does not know is already gone, so each sequence may be
 * repeated after a partial run.
 */
public final class ColoNics {

  private static final Logger log = LoggerFactory.getLogger(ColoNics.class);

  private ColoNics() {}

  static String netdev(int i) {
    return "net" + i;
  }

  /** On the secondary, before it listens for COLO: the servers the primary connects to and the guest's filters. */
  public static void secondary(QmpClient q, String address, List<FtNicPorts> ports) throws QmpException {
    for (int i = 0; i < ports.size(); i++) {
      FtNicPorts p = ports.get(i);
      q.call(ChardevAdd.server(mirror(i), new Address.Inet(address, p.mirrorPort())), ColoPlumbing.CALL);
      q.call(ChardevAdd.server(secondaryOut(i), new Address.Inet(address, p.comparePort())), ColoPlumbing.CALL);
      q.call(filter("filter-redirector", inFromPrimary(i), i, "tx", Map.of("indev", mirror(i))), ColoPlumbing.CALL);
      q.call(filter("filter-redirector", outToPrimary(i), i, "rx", Map.of("outdev", secondaryOut(i))), ColoPlumbing.CALL);
      q.call(filter("filter-rewriter", rewriter(i), i, "all", Map.of()), ColoPlumbing.CALL);
    }
  }

  /**
   * On the primary, its guest stopped, before COLO's migration starts: connects to the
   * secondary's servers (so a secondary that cannot be reached fails the enable here, naming the
   * port) and builds colo-compare and the filters; the local pairs are UNIX sockets in {@code run}.
   * A survivor of an earlier failover still has its rewriter: the new filters go before it, as
   * QEMU's COLO-FT.txt resumes replication.
   */
  public static void primary(QmpClient q, Path run, String secondaryAddress, List<FtNicPorts> ports) throws QmpException {
    List<String> objects = q.call(QomList.objects(), ColoPlumbing.CALL).stream().map(QomList.Property::name).toList();
    for (int i = 0; i < ports.size(); i++) {
      String before = objects.contains(rewriter(i)) ? rewriter(i) : null;
      FtNicPorts p = ports.get(i);
      q.call(ChardevAdd.server(guestOut(i), new Address.Unix(run.resolve(guestOut(i) + ".sock"))), ColoPlumbing.CALL);
      q.call(ChardevAdd.client(compareIn(i), new Address.Unix(run.resolve(guestOut(i) + ".sock"))), ColoPlumbing.CALL);
      q.call(ChardevAdd.server(released(i), new Address.Unix(run.resolve(released(i) + ".sock"))), ColoPlumbing.CALL);
      q.call(ChardevAdd.client(compareOut(i), new Address.Unix(run.resolve(released(i) + ".sock"))), ColoPlumbing.CALL);
      connect(q, mirror(i), secondaryAddress, p.mirrorPort(), "mirror");
      connect(q, secondaryOut(i), secondaryAddress, p.comparePort(), "compare");
      q.call(new ObjectAdd("iothread", iothread(i), Map.of()), ColoPlumbing.CALL);
      var compare = new LinkedHashMap<String, Object>();
      compare.put("primary_in", compareIn(i));
      compare.put("secondary_in", secondaryOut(i));
      compare.put("outdev", compareOut(i));
      compare.put("iothread", iothread(i));
      q.call(new ObjectAdd("colo-compare", compare(i), compare), ColoPlumbing.CALL);
      q.call(filter("filter-mirror", mirrorFilter(i), i, "tx", at(before, "outdev", mirror(i))), ColoPlumbing.CALL);
      q.call(filter("filter-redirector", releasedIn(i), i, "rx", at(before, "indev", released(i))), ColoPlumbing.CALL);
      q.call(filter("filter-redirector", guestOutFilter(i), i, "rx", at(before, "outdev", guestOut(i))),
          ColoPlumbing.CALL);
    }
  }

  private static void connect(QmpClient q, String id, String address, int port, String what) throws QmpException {
    try {
      q.call(ChardevAdd.client(id, new Address.Inet(address, port)), ColoPlumbing.CALL);
    } catch (QmpErrorException e) {
      throw new AgentException(Kind.UNAVAILABLE, "primary: cannot reach the secondary's " + what + " port "
          + address + ":" + port + " of the network proxy: " + e.getMessage(), e);
    }
  }

  /**
   * On the primary, back to a plain NIC path: colo-compare first (QEMU releases the frames it
   * still holds to its output, which the re-injecting redirector is still there to send), then
   * the filters, then the sockets.
   */
  public static void dropPrimary(QmpClient q, int nics) throws QmpException {
    for (int i = 0; i < nics; i++) {
      delObject(q, compare(i));
      delObject(q, iothread(i));
      delObject(q, mirrorFilter(i));
      delObject(q, guestOutFilter(i));
      delObject(q, releasedIn(i));
      for (String c : List.of(compareIn(i), guestOut(i), compareOut(i), released(i), mirror(i), secondaryOut(i))) {
        delChardev(q, c);
      }
    }
  }

  /**
   * On a secondary that took over: its guest's frames go to its own tap from now on, and it hears
   * the tap instead of the primary; the rewriter stays for the connections opened under COLO.
   */
  public static void dropSecondary(QmpClient q, int nics) throws QmpException {
    for (int i = 0; i < nics; i++) {
      delObject(q, outToPrimary(i));
      delObject(q, inFromPrimary(i));
      delChardev(q, secondaryOut(i));
      delChardev(q, mirror(i));
    }
  }

  /** A filter's link, placed before filter {@code before} when there is one (else appended, QEMU's default). */
  private static Map<String, Object> at(String before, String link, String chardev) {
    var props = new LinkedHashMap<String, Object>();
    props.put(link, chardev);
    if (before != null) {
      props.put("insert", "before");
      props.put("position", "id=" + before);
    }
    return props;
  }

  private static ObjectAdd filter(String type, String id, int nic, String queue, Map<String, Object> more) {
    var props = new LinkedHashMap<String, Object>();
    props.put("netdev", netdev(nic));
    props.put("queue", queue);
    props.putAll(more);
    return new ObjectAdd(type, id, props);
  }

  private static void delObject(QmpClient q, String id) throws QmpException {
    try {
      q.call(new ObjectDel(id), ColoPlumbing.CALL);
    } catch (QmpErrorException e) {
      if (!notFound(e)) throw e;
      log.debug("object-del {}: {}", id, e.getMessage());
    }
  }

  private static void delChardev(QmpClient q, String id) throws QmpException {
    try {
      q.call(new ChardevRemove(id), ColoPlumbing.CALL);
    } catch (QmpErrorException e) {
      if (!notFound(e)) throw e;
      log.debug("chardev-remove {}: {}", id, e.getMessage());
    }
  }

  private static boolean notFound(QmpErrorException e) {
    String m = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
    return m.contains("not found") || m.contains("devicenotfound");
  }

  // the secondary's servers, the primary's clients of them (same ids on both sides)
  static String mirror(int i) {
    return "ft-mirror" + i;
  }

  static String secondaryOut(int i) {
    return "ft-sout" + i;
  }

  static String inFromPrimary(int i) {
    return "ft-sin-f" + i;
  }

  static String outToPrimary(int i) {
    return "ft-sout-f" + i;
  }

  static String rewriter(int i) {
    return "ft-rew" + i;
  }

  // the primary's local pairs: guest frames into colo-compare, released frames back out
  static String guestOut(int i) {
    return "ft-gout" + i;
  }

  static String compareIn(int i) {
    return "ft-gin" + i;
  }

  static String released(int i) {
    return "ft-rel" + i;
  }

  static String compareOut(int i) {
    return "ft-relc" + i;
  }

  static String iothread(int i) {
    return "ft-io" + i;
  }

  static String compare(int i) {
    return "ft-compare" + i;
  }

  static String mirrorFilter(int i) {
    return "ft-mirror-f" + i;
  }

  static String releasedIn(int i) {
    return "ft-rel-f" + i;
  }

  static String guestOutFilter(int i) {
    return "ft-gout-f" + i;
  }
}
