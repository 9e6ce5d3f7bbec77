package dev.ferry.api.agent;

import java.util.Map;

/** Where the source mirrors copied disks to: the target's NBD server and its exports (disk id → export name). */
public record NbdTarget(String host, int port, Map<String, String> exports) {}
