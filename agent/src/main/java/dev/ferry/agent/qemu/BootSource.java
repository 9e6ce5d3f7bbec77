package dev.ferry.agent.qemu;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/** What the VM boots: a kernel and initrd given to QEMU directly, or a bootable disk image. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = BootSource.Kernel.class, name = "kernel"),
  @JsonSubTypes.Type(value = BootSource.Image.class, name = "image")
})
public sealed interface BootSource {

  /** Direct kernel boot; the serial console is always ttyS0. */
  record Kernel(String kernel, String initrd, String append) implements BootSource {
    public Kernel {
      requireAbsolute("kernel", kernel);
      if (initrd != null) requireAbsolute("initrd", initrd);
      append = append == null ? "" : append;
    }
  }

  /** Boots from the VM's first disk; the image itself is that disk. */
  record Image() implements BootSource {}

  private static void requireAbsolute(String field, String path) {
    if (path == null || !path.startsWith("/")) {
      throw new IllegalArgumentException(field + " path '" + path + "' must be absolute");
    }
  }
}
