"""What a firmware build writes: address-space images read from and written to text formats."""
