"""CIDEr-D of 8 images x 5 candidates per call: `dico_nb.reward.CiderD` (references cooked in the call, or cached)
against pycocoevalcap's `CiderScorer` with the corpus document frequencies computed once (its fastest honest use)."""
import random, time
import numpy as np
from common import interleaved
from dico_nb.reward import CiderD

B, K = 8, 5

def bench_cider(n_images, repeats) -> dict:
    "Seconds per call, ours cold / warm vs pycocoevalcap, after checking that the values agree."
    from bench_cider import corpus, candidates, pycoco_cached_df, pycoco_pairs
    gts = corpus(n_images)
    rng = random.Random(1)
    keys = rng.sample(list(gts), B)
    cands = [candidates(gts[i], K, rng) for i in keys]                            # [B][k]
    t0 = time.perf_counter(); cider = CiderD(gts); t_ours = time.perf_counter() - t0
    t0 = time.perf_counter(); df = pycoco_cached_df(gts); t_peer = time.perf_counter() - t0
    flat_c, flat_r = [c for cs in cands for c in cs], [gts[i] for i in keys for _ in range(K)]
    ours, theirs = cider(cands, keys).numpy(), pycoco_pairs(df, n_images, flat_c, flat_r).reshape(B, K)
    np.testing.assert_allclose(ours, theirs, atol=1e-6, rtol=0)
    def cold(): cider.cache.clear(); cider(cands, keys)
    ts = interleaved(dict(ours=cold, warm=lambda: cider(cands, keys), peer=lambda: pycoco_pairs(df, n_images, flat_c, flat_r)), repeats)
    return dict(ts=ts, items=B * K, check=dict(max_diff=float(np.abs(ours - theirs).max()), mean=float(ours.mean()),
                                                 setup_s=dict(ours=t_ours, peer=t_peer)))
