package dev.ferry.controller.store;

/** A stored NIC of a VM: its index (the tap's suffix), its network and its cluster-unique MAC. */
public record NicRow(String vm, int index, String network, String mac) {}
