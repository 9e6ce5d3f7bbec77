package dev.ferry.agent.qemu.qmp;

import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.QmpCommand;
import dev.ferry.qmp.QmpErrorException;
import dev.ferry.qmp.QmpEvent;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.machine.QueryStatus;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

/**
 * How the agent talks to one QEMU: typed commands, each with the agent's deadline, and the
 * check-then-act helpers its steps share ({@link #jobs}, {@link #nodes}, {@link #exports},
 * {@link #nbdServer}, {@link #migration}). Each helper asks QEMU one question with one command and
 * acts only on what is missing, so a repeated step or a restarted agent changes nothing twice.
 * Cheap to create: it holds only the client.
 */
public final class Qmp {

  /** The deadline of every call that does not name its own. */
  private static final Duration CALL = Duration.ofSeconds(30);

  private final QmpClient client;

  public Qmp(QmpClient client) {
    this.client = client;
  }

  /** Sends {@code command} and waits for its reply, at most {@link #CALL}. */
  public <R> R call(QmpCommand<R> command) {
    return client.call(command, CALL);
  }

  /** Sends {@code command} and waits for its reply, at most {@code deadline}. */
  public <R> R call(QmpCommand<R> command, Duration deadline) {
    return client.call(command, deadline);
  }

  /** As {@link QmpClient#callInOrder}, each at most {@link #CALL}: per command, its failure or null. */
  public List<QmpException> callInOrder(List<? extends QmpCommand<?>> commands) {
    return client.callInOrder(commands, CALL);
  }

  /** {@link #callInOrder}, throwing the first failure. */
  public void callAllInOrder(List<? extends QmpCommand<?>> commands) {
    for (QmpException e : callInOrder(commands)) {
      if (e != null) throw e;
    }
  }

  /** As {@link QmpClient#awaitEvent}: the next matching event after this thread's last command. */
  public QmpEvent awaitEvent(Predicate<QmpEvent> match, Duration deadline) {
    return client.awaitEvent(match, deadline);
  }

  /** The run state of the guest ({@code query-status}). */
  public QueryStatus.StatusInfo runState() {
    return call(new QueryStatus());
  }

  public Jobs jobs() {
    return new Jobs(this);
  }

  public Nodes nodes() {
    return new Nodes(this);
  }

  public Exports exports() {
    return new Exports(this);
  }

  public NbdServer nbdServer() {
    return new NbdServer(this);
  }

  public Migration migration() {
    return new Migration(this);
  }

  /** A failure as the text a status or log line shows: QEMU's own description for a QMP error. */
  public static String describe(RuntimeException e) {
    return e instanceof QmpErrorException q ? q.desc() : String.valueOf(e.getMessage());
  }
}
