"""OCI images of exactly what a release artifact ships, and the local engine that loads and runs them.

    from deploysafe.image import build_image, image_settings
    result = build_image("dist/api-1.0.0-3f88961c.tar.gz", "dist/api.tar", image_settings("."))
    print(result.reference, result.digest)

:mod:`.build` writes the image (base, dependency, closure and init layers), :mod:`.boot` runs one on a
loopback port and judges its health, :mod:`.engine` drives podman/docker and skopeo. The OCI format
itself is :mod:`deploysafe.artifact.oci`.
"""

from __future__ import annotations

from deploysafe.image.build import ImageResult, build_image
from deploysafe.image.engine import Engine, ImageError, NoEngine, find_engine
from deploysafe.image.settings import ImageSettings, image_settings

__all__ = [
    "Engine",
    "ImageError",
    "ImageResult",
    "ImageSettings",
    "NoEngine",
    "build_image",
    "find_engine",
    "image_settings",
]
