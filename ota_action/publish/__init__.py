"""Publishing built files: the index documents Zigbee2MQTT and ZHA read, and their rules."""
