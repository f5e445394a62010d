"""The `suno` provider type: the Suno API of sunoapi.org (music, lyrics, covers, stems, WAV, MP4)."""

from anygate.providers.base import ProviderAdapter
from anygate.providers.suno.adapter import SunoProvider

ADAPTER = ProviderAdapter(type="suno", build_tasks=SunoProvider)
