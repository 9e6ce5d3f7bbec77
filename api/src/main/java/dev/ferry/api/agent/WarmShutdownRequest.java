package dev.ferry.api.agent;

/**
 * {@code POST /agent/vms/NAME/warm-source/shutdown}: press the guest's ACPI power button (again
 * every few seconds) and wait up to {@code timeoutMs} for it to power off. QEMU stays (its disks,
 * bitmaps and exports with it); a guest that does not power off in time keeps running, never killed.
 *
 * @param finalPass when set, the pass the source prepares the moment the guest is off, as a
 *     {@link WarmPassRequest} of it would, answering with that pass's export and bitmap: the
 *     cutover's final pass then starts without another round trip while the guest is down. Null:
 *     only the power-off (the pass is asked for on its own).
 */
public record WarmShutdownRequest(String migrationId, long timeoutMs, Integer finalPass) {

  /** Only the power-off. */
  public WarmShutdownRequest(String migrationId, long timeoutMs) {
    this(migrationId, timeoutMs, null);
  }
}
