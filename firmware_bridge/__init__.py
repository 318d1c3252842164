"""Device codecs (bytes ⇄ readings) and device simulators, one folder per device family."""
