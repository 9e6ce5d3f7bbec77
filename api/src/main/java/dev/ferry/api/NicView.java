package dev.ferry.api;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * A VM's NIC as {@code ferry vm show} prints it: a virtio-net device on {@code tap}, attached to
 * the bridge of {@code network}.
 *
 * @param tap the tap device on the VM's current host
 * @param ip  the guest's address from the DHCP lease when Ferry serves DHCP on the network; absent
 *            otherwise
 */
public record NicView(String network, String mac, String tap,
    @JsonInclude(JsonInclude.Include.NON_NULL) String ip) {}
