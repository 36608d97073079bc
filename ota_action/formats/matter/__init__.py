"""The Matter OTA software update image (Matter Core specification, "OTA Software Update File Format")."""
