#!/usr/bin/env python3
"""Writes the benchmark inputs: photo-like JPEGs (gradients, soft shapes, sensor-like
noise) so that PNG and JPEG sizes behave as they do on photographs, not flat colour.

usage: make_bench_images.py OUT_DIR [COUNT] [SIZE] [BIG_SIZE]
"""
import os
import random
import sys

from PIL import Image, ImageChops, ImageDraw, ImageFilter


def photo_like(size, seed):
    rnd = random.Random(seed)
    w = h = size
    # Sky-to-ground gradients per channel, each a different direction.
    r = Image.linear_gradient("L").resize((w, h)).rotate(rnd.randint(0, 359))
    g = Image.radial_gradient("L").resize((w, h))
    b = Image.linear_gradient("L").resize((w, h)).transpose(Image.FLIP_TOP_BOTTOM)
    img = Image.merge("RGB", (r, g, b))
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x0, y0 = rnd.randint(0, w), rnd.randint(0, h)
        x1, y1 = x0 + rnd.randint(w // 10, w // 2), y0 + rnd.randint(h // 10, h // 2)
        colour = tuple(rnd.randint(0, 255) for _ in range(3))
        if rnd.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
    img = img.filter(ImageFilter.GaussianBlur(size / 200))
    # Texture at two scales: fine grain plus blotches, like foliage or fabric.
    # Independent per channel, as sensor noise is.
    grain = Image.merge("RGB", [Image.effect_noise((w, h), 10) for _ in range(3)])
    blotch = Image.merge(
        "RGB", [Image.effect_noise((w // 8, h // 8), 30).resize((w, h), Image.BICUBIC) for _ in range(3)]
    )
    img = ImageChops.add(img, grain, scale=1.0, offset=-128)
    img = ImageChops.add(img, blotch, scale=1.0, offset=-128)
    return img


def main():
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 1024
    big = int(sys.argv[4]) if len(sys.argv) > 4 else 4000
    os.makedirs(out, exist_ok=True)
    for i in range(count):
        photo_like(size, i).save(os.path.join(out, f"photo-{i:02d}.jpg"), quality=90)
    if big:
        photo_like(big, 1000).save(os.path.join(out, f"big-{big}.jpg"), quality=90)


if __name__ == "__main__":
    main()
