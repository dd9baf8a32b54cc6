"""Binary PPM (P6, 8-bit RGB) in pure Python: read, box-filter down-scaling, write."""


class Picture:
    def __init__(self, width, height, pixels):
        self.width = width
        self.height = height
        self.pixels = pixels  # bytes: RGB rows, top to bottom


def read(data):
    fields = []
    position = 0
    while len(fields) < 4:
        while position < len(data) and data[position:position + 1].isspace():
            position += 1
        if data[position:position + 1] == b"#":
            while position < len(data) and data[position:position + 1] not in (b"\n", b"\r"):
                position += 1
            continue
        start = position
        while position < len(data) and not data[position:position + 1].isspace():
            position += 1
        if start == position:
            raise ValueError("not a binary PPM image: the header ends early")
        fields.append(data[start:position])
    if fields[0] != b"P6":
        raise ValueError("not a binary PPM (P6) image; vendor Pillow for other formats")
    width, height, maximum = (int(field) for field in fields[1:])
    if maximum != 255 or width <= 0 or height <= 0:
        raise ValueError("only 8-bit PPM images are supported")
    pixels = data[position + 1:position + 1 + width * height * 3]
    if len(pixels) != width * height * 3:
        raise ValueError("the PPM image is truncated")
    return Picture(width, height, pixels)


def fit(picture, max_width, max_height):
    """Scales down (never up) to fit, keeping the aspect ratio; each output pixel is the
    mean of the block of input pixels it covers."""
    scale = min(max_width / picture.width, max_height / picture.height, 1.0)
    width = max(1, int(picture.width * scale))
    height = max(1, int(picture.height * scale))
    source = picture.pixels
    out = bytearray(width * height * 3)
    for y in range(height):
        y0 = y * picture.height // height
        y1 = max(y0 + 1, (y + 1) * picture.height // height)
        for x in range(width):
            x0 = x * picture.width // width
            x1 = max(x0 + 1, (x + 1) * picture.width // width)
            r = g = b = 0
            for row in range(y0, y1):
                base = (row * picture.width + x0) * 3
                for column in range(x1 - x0):
                    offset = base + column * 3
                    r += source[offset]
                    g += source[offset + 1]
                    b += source[offset + 2]
            count = (y1 - y0) * (x1 - x0)
            index = (y * width + x) * 3
            out[index] = r // count
            out[index + 1] = g // count
            out[index + 2] = b // count
    return Picture(width, height, bytes(out))


def write(picture):
    return b"P6\n%d %d\n255\n" % (picture.width, picture.height) + picture.pixels
