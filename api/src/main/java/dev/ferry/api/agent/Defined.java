package dev.ferry.api.agent;

/**
 * The answer to an idempotent {@code PUT}: what now exists, and whether this call created it
 * (201) or found it there (200).
 */
public record Defined<T>(T value, boolean created) {

  /** The HTTP status that says which. */
  public int status() {
    return created ? 201 : 200;
  }
}
