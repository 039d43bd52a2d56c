"""What every part of the emulator shares: DRMS time handling."""
