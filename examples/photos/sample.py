"""Writes a 320x240 binary PPM (a sunset-coloured gradient with a sun) to stdout."""
import sys

WIDTH, HEIGHT = 320, 240
rows = []
for y in range(HEIGHT):
    row = bytearray()
    for x in range(WIDTH):
        inside = (x - 220) ** 2 + (y - 80) ** 2 < 30 ** 2
        if inside:
            row += bytes((255, 230, 120))
        elif y > 170:
            row += bytes((20, 60 + (y - 170), 140))
        else:
            row += bytes((255 - y // 2, 90 + y // 3, 60 + x // 8))
    rows.append(bytes(row))
sys.stdout.buffer.write(b"P6\n%d %d\n255\n" % (WIDTH, HEIGHT) + b"".join(rows))
