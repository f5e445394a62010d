"""The `suno` provider type: the Suno API of sunoapi.org (music, lyrics, covers, stems, WAV, MP4)."""
