"""Ready-made strategies that ship with tradewire; each uses only tradewire's public API."""
