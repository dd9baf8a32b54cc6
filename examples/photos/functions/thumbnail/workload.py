"""thumbnail: a smaller copy of one of your photos, next to your other derived data.

Payload: {"photo": "home:<alice,alice>:photos:beach.ppm", "size": [64, 64]}

Reads the photo (which taints the function with its owner's secrecy), scales it to fit
in `size`, vouches for the result with the app's privilege (endorse), and stores it as
the blob entry home:%:<photo>.thumb: `%` is the facet of the current label, so the
thumbnail lands where only the photo's owner can read it. The app's privilege (pma) is
not the owner's: it could not declassify the photo, or its thumbnail, if it tried.

With Pillow vendored into the image's package/ directory (install.sh and ./dev start do
it when PyPI is reachable; the runtime puts /srv/package on the path), JPEG,
PNG and PPM photos are read and a JPEG is written; without it, binary PPM (P6) photos
are scaled by a pure-Python box filter and a PPM is written.
"""
import io
import json

import faasten
import netpbm

try:
    from PIL import Image
except ImportError:  # pragma: no cover - depends on the image
    Image = None


def handle(syscall, payload, blobs, headers, invoker):
    request = json.loads(payload or b"{}")
    photo = request.get("photo")
    if not photo:
        return faasten.ResponseDict({"error": "give the photo's path: {\"photo\": PATH}"}, 400)
    width, height = request.get("size", [64, 64])
    with syscall.fs_openblob(photo) as blob:
        original = blob.read()
    data, kind, size = _scale(original, int(width), int(height))
    print("scaled", photo, "to", "x".join(map(str, size)), "as", kind)
    # The app vouches for what it made; the owner's secrecy stays.
    syscall.endorse()
    target = "home:%:" + photo.split(":")[-1] + ".thumb"
    with syscall.create_blob() as new_blob:
        new_blob.write(data)
    thumbnail = new_blob.finalize()
    try:
        syscall.fs_linkblob(target, thumbnail)
    except faasten.AlreadyExistsError:
        # Made before: point the entry at the new bytes.
        with syscall.resolve(target) as existing:
            existing.update(thumbnail)
    return {"thumbnail": target, "format": kind, "size": size, "bytes": len(data),
            "engine": "pillow" if Image else "pure-python", "label": syscall.get_current_label()}


def _scale(data, width, height):
    if Image is not None:
        image = Image.open(io.BytesIO(data))
        image.thumbnail((width, height))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=85)
        return out.getvalue(), "jpeg", list(image.size)
    image = netpbm.read(data)
    scaled = netpbm.fit(image, width, height)
    return netpbm.write(scaled), "ppm", [scaled.width, scaled.height]
