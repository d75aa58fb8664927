#!/usr/bin/env python3
"""The seeds' fallback in Pillow, for comparison with bench_fallback: open the JPEG,
invert RGB, draw the watermark semi-transparent red through an RGBA overlay (DejaVu Sans,
about 1/12 of the image height, wrapped to the width less margins, centred), save PNG with
Pillow's defaults (zlib level 6, adaptive filters).

usage: pillow_fallback.py [--runs N] [--out DIR] INPUT...
Prints one line per input (median of N runs) and a closing RESULT line.
"""
import io
import os
import statistics
import sys
import time

from PIL import Image, ImageDraw, ImageFont, ImageOps

TEXT = "DEMO - FALLBACK (OpenAI billing limit)"
FONT = os.environ.get("IMAGEPIPE_FONT", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
MARGIN = 16


def wrap(draw, text, font, width):
    lines, current = [], ""
    for word in text.split():
        candidate = (current + " " + word).strip()
        if current and draw.textlength(candidate, font=font) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    return lines + [current]


def fallback(data):
    image = Image.open(io.BytesIO(data)).convert("RGB")
    image = ImageOps.invert(image)
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    font = ImageFont.truetype(FONT, max(12, image.height // 12))
    text = "\n".join(wrap(draw, TEXT, font, image.width - 2 * MARGIN))
    draw.multiline_text(
        (image.width / 2, image.height / 2), text, font=font, fill=(255, 0, 0, 128), anchor="mm", align="center"
    )
    image = Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def main():
    args = sys.argv[1:]
    runs, out_dir, inputs = 5, None, []
    while args:
        arg = args.pop(0)
        if arg == "--runs":
            runs = max(1, int(args.pop(0)))
        elif arg == "--out":
            out_dir = args.pop(0)
        else:
            inputs.append(arg)
    if not inputs:
        sys.exit("usage: pillow_fallback.py [--runs N] [--out DIR] INPUT...")
    medians, sizes = [], []
    for path in inputs:
        with open(path, "rb") as f:
            data = f.read()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            png = fallback(data)
            times.append((time.perf_counter() - start) * 1000)
        medians.append(statistics.median(times))
        sizes.append(len(png))
        print(f"{path:<40} {medians[-1]:8.1f} ms  {len(png):9d} bytes")
        if out_dir:
            name = os.path.splitext(os.path.basename(path))[0] + ".png"
            with open(os.path.join(out_dir, name), "wb") as f:
                f.write(png)
    print(f"RESULT images={len(inputs)} median_ms={statistics.median(medians):.1f} "
          f"mean_png_bytes={sum(sizes) / len(sizes):.0f}")


if __name__ == "__main__":
    main()
