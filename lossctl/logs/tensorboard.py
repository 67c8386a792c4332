"""TensorBoard event files (``events.out.tfevents.*``), read with TensorBoard's own reader.

Needs the optional extra ``tensorboard`` (``pip install 'lossctl[tensorboard]'``);
without it, a clear :class:`~lossctl.errors.MissingDependency` error. The format is
recognised from the content (the first record of an event file is the
``brain.Event:2`` version stamp), not from the file name.

Scalars written the TF1 way (``simple_value``) and the TF2 / PyTorch way (a scalar
tensor with the ``scalars`` plugin) are read; images, histograms and text are not.
Tags are named like any metric: ``train/loss``, ``eval/loss``, ``Loss/train``,
``val_loss``, ``lr-Adam`` → (split, metric). Each scalar's ``step`` and ``wall_time``
become the step and time columns.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

from lossctl import errors
from lossctl.logs import tidy
from lossctl.logs.base import ParseContext, Record

NAME = "tensorboard"
DESCRIPTION = "TensorBoard event files (events.out.tfevents.*; needs the 'tensorboard' extra)"
EXAMPLE = "events.out.tfevents.1700000000.host.1234.0 (binary: scalars such as train/loss, eval/loss)"
KIND = "binary"


def detect(sample: str) -> float:
    head = sample[:512]
    if "brain.Event:" in head:
        return 0.99
    return 0.0


def damage(head: bytes, size: int) -> str:
    """Why the start of a file named like an event file is not a TensorBoard event file.

    An event file is a sequence of TFRecords (8-byte little-endian length, 4-byte CRC,
    the data, 4-byte CRC); the first record holds the ``brain.Event:2`` version stamp.
    """
    import struct

    if size < 16:
        return f"{size} bytes, shorter than one event record"
    (length,) = struct.unpack("<Q", head[:8])
    if length > size - 16:
        return (f"the first record's length field says {length:,} bytes but the file has {size:,}: "
                "damaged, or not an event file")
    if b"brain.Event:" not in head[12:12 + length]:
        return "its first record is not TensorBoard's 'brain.Event' version stamp: damaged, or not an event file"
    return "the records cannot be read: damaged"


def _loader():
    try:
        from tensorboard.backend.event_processing import event_file_loader
        from tensorboard.util import tensor_util
    except ImportError:
        raise errors.MissingDependency("TensorBoard event files", "tensorboard", "tensorboard") from None
    return event_file_loader, tensor_util


def _f32(x: float) -> float:
    """A float32 as the shortest decimal that round-trips in float32 (what was logged:
    ``1e-04``, not ``9.999999747378752e-05``)."""
    import numpy as np

    return float(str(np.float32(x)))


def _scalar(value, tensor_util) -> float | None:
    kind = value.WhichOneof("value")
    if kind == "simple_value":
        return _f32(value.simple_value)
    if kind == "tensor":
        plugin = value.metadata.plugin_data.plugin_name if value.HasField("metadata") else ""
        if plugin not in ("", "scalars"):
            return None
        try:
            arr = tensor_util.make_ndarray(value.tensor)
        except Exception:
            return None
        if arr.size != 1 or arr.dtype.kind not in "fiu":
            return None
        x = arr.reshape(())
        return _f32(x) if arr.dtype.itemsize == 4 and arr.dtype.kind == "f" else float(x)
    return None


def parse(src, ctx: ParseContext) -> Iterator[Record]:
    event_file_loader, tensor_util = _loader()
    path = src.fs_path() if hasattr(src, "fs_path") else None
    tmp = None
    if path is None:  # stdin or a stream: TensorBoard's reader wants a file
        fd, tmp = tempfile.mkstemp(prefix="lossctl-", suffix=".tfevents")
        with os.fdopen(fd, "wb") as fh, src.open_bytes() as data:
            while chunk := data.read(1 << 20):
                fh.write(chunk)
        path = tmp
    try:
        loader = event_file_loader.EventFileLoader(str(path))
        n = 0
        for event in loader.Load():
            n += 1
            if not event.HasField("summary"):
                continue
            for value in event.summary.value:
                v = _scalar(value, tensor_util)
                if v is None:
                    continue
                split, metric = tidy.canonical(value.tag)
                yield Record(step=float(event.step), split=split, metric=metric, value=v, name=value.tag,
                             time=float(event.wall_time), group=n)
        if n == 0:  # TensorBoard's reader stops quietly at damage
            with open(path, "rb") as fh:
                head = fh.read(1 << 16)
                size = fh.seek(0, 2)
            raise errors.InputError(f"not a readable TensorBoard event file ({damage(head, size)})",
                                    source=ctx.source)
    finally:
        if tmp is not None:
            os.unlink(tmp)
