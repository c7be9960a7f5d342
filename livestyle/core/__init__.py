"""What every layer uses: errors, the crash log, stop signals, files written whole."""
