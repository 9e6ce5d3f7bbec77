package dev.ferry.agent.ft;

import java.nio.file.Path;
import java.time.Duration;

/** Runs COLO on one QEMU binary and judges it; {@link FtProbes} caches and bounds it. */
interface ColoSelfTest {

  /**
   * Judges {@code binary} within about {@code budget}. Must stop every process it started when it
   * returns or when its thread is interrupted (the hard timeout of {@link FtProbes}).
   */
  ColoOutcome run(Path binary, Duration budget) throws InterruptedException;
}
