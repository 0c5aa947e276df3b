"""Half-Cheetah kinematics: 31 traces of 1000 x 17, predict the next step (Table 6).

The paper's ``cheetah.py`` sorts ``trace_*.npy``, trains on files 15-24, tests on 5-14 and
validates on 0-4 (25-30 are unused); no normalisation; in each file it cuts windows of 32
every 10 rows with the target the input shifted by one step, starting at
``range(0, n - 32 - 1, 10)`` (97 windows per file).
"""

from __future__ import annotations

import os

import numpy as np

from ltcjax.data.dataset import Splits
from ltcjax.data.tasks.common import cut_windows, regular, window_starts
from ltcjax.data.tasks.download import DataFile, locate_all
from ltcjax.validation import argument_error, check_positive_int

__all__ = ["FILES", "load_cheetah"]

_BASE = (
    "https://raw.githubusercontent.com/raminmh/liquid_time_constant_networks/master/"
    "experiments_with_ltcs/data/cheetah/"
)
_SHA = (
    "c043e141c6dd99e9b41ac7a9d4bc741b0991cff6a769954517e9c204ce3c7ccc",
    "f231fe66284b535c745f9f44a595aac2f740b988171d3db3201597e821c6c5d3",
    "7ff8a0c8974247187717417f6a163023b739c3a22a374894becff1723ce67f68",
    "28109a8f9eae1ec0246aca4f5bfa10ebf21e9f86e62e448b9f8b66f345091680",
    "b478f21d00868db66d6aef8a14ed69f6214120870cc1491dec85a3f74aeb46eb",
    "45e6288f3d5ba610b98aea300c117b032c6585144eb55e7f7fb67178d71eb4d6",
    "ab93f0d3b9e0c5f1a7886a089e76d5ff99f955ad0671f23d98351d05fecf4913",
    "e29bc1ffee113f760b3efd33831dea0485626e2deddc1ee7a81baf30344aeaaa",
    "c7028a2301720e65a31f608d362c03f811aca977ebb0f3ee0d6985bc4f6f1c2c",
    "937afdd66e3c6487a48b1d04c2f2120ba24be563296f5bfaa8bef741083c7b7c",
    "625dbb7c7f8451816799b3dcd47d20ace4a82019e52d467e7a985422551be890",
    "d230f2c43a84462fda2f5af28480f7a2b7945f032731587fca896229dc3b02dc",
    "feef3754c2c547fdd7cfd697323eea81b212c854bfd3029f04048e277b9399c1",
    "53e9e0d128f9e21def2ee015bc41c40184b22df5928d05f5a978687d3696c76d",
    "f022f778ad332f8c6986709ca27dd18823130bb3a7f71f646c8a5ccdc483acda",
    "bcb9e34a17317e31f22ef71d82aa180c282ab08b81a21bfcfefb827dabbd8ee8",
    "7d22f86d205728c7c106d43c97cfc4038621700bc88bf4081855e1c01b2c9229",
    "403d52608b364089a4c8d48cc89758eacdb89b572ef6ca0c0829a4cf40fb063c",
    "6d8322ec8351fb68ec11e4173ed23c4c247c23faa4e66be6cfa3dbeec0717e5a",
    "7354afb2041a1af8117f0c2dca36f57cd489d6bb77f939bc81d134409836b358",
    "9d22d9138c0fd51eaa8271e484ce0a5b3c3f8ef592f5c91cf55933af4091e4d2",
    "363b31828ed262556cb987dc7ad470c8c039e6ca492a92e9139d4ab5422924d1",
    "27f624129fdeca0c4fa40499cb48ba5321d2bfd9b4effd0de189124de9fb7a5f",
    "680f5675eed8d8cc62ca9fcba2fe0f23a2acbad51019b7bb0d3954dc6e607e9b",
    "ae98a98829f61ec23260818743e7f659601641c459a4a797a8df86e235ec4b85",
    "a2488d0aaf847990f1a90f302803891b51dc5ba40e28e94f044ca11e428292ae",
    "bc9acb935a821810ecef4050b6d1e9e7bdb992601b70393492efa9c471e26c0c",
    "573e85ef1bda7c22583f362de712e62a33e8f9be319bf1bf4d754d822edfe701",
    "a20bdc1de0904a0522128db016d592f2ef95559ae9b6623e1496cb590bd552e0",
    "49f13631038f37b52e1fd929ecf430d02a6f140a32b43bec764855db41780c78",
    "f5b868f5886f5014fc2f4060fcce9694c0e30b03fc9e402ae6da3805da9d6a65",
)
#: trace_0000.npy ... trace_0030.npy, from the paper's repository (sorted order).
FILES = tuple(
    DataFile("cheetah", f"trace_{i:04d}.npy", f"{_BASE}trace_{i:04d}.npy", (sha,))
    for i, sha in enumerate(_SHA)
)
OBS_SIZE = 17


def load_cheetah(
    data_dir: str | os.PathLike | None = None,
    *,
    seq_len: int = 32,
    stride: int = 10,
    include_last_window: bool = False,
    download: bool = True,
    verify: bool = True,
) -> Splits:
    """Half-Cheetah as the paper's code builds it: inputs (N, 32, 17), targets (N, 32, 17)
    (the inputs one step later); 970 training, 485 validation, 970 test windows.

    Args:
        data_dir: a directory with ``cheetah/trace_0000.npy`` ... ``trace_0030.npy``.
        seq_len: window length (paper: 32).
        stride: rows between window starts (paper: 10).
        include_last_window: also take the window whose target ends at the last row.
        download: allow downloading into the cache (see :func:`ltcjax.data.load_task`).
        verify: check the files' sha256 (see :func:`ltcjax.data.load_task`).
    """
    check_positive_int("seq_len", seq_len)
    check_positive_int("stride", stride)
    paths = locate_all(FILES, data_dir, download=download, verify=verify)

    def part(selected) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        for path in selected:
            trace = np.load(path).astype(np.float32)
            if trace.ndim != 2 or trace.shape[1] != OBS_SIZE:
                raise argument_error(
                    "data_dir", f"a (steps, {OBS_SIZE}) array in {str(path)!r}", trace.shape
                )
            starts = window_starts(
                len(trace), seq_len, stride, include_last=include_last_window, shift=1
            )
            xs.append(cut_windows(trace, starts, seq_len))
            ys.append(cut_windows(trace, starts + 1, seq_len))
        return np.concatenate(xs), np.concatenate(ys)

    return Splits(
        train=regular(*part(paths[15:25])),
        valid=regular(*part(paths[:5])),
        test=regular(*part(paths[5:15])),
    )
