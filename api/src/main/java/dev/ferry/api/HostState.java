package dev.ferry.api;

/** Whether the controller hears from a host's agent. */
public enum HostState {
  /** heartbeats arrive within the timeout */
  ONLINE,
  /** no heartbeat for longer than the timeout; its VMs are not touched, only reported */
  UNREACHABLE
}
