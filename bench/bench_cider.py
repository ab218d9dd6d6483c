#!/usr/bin/env python
"""CIDEr-D for one SCST step: `dico_nb.reward.CiderD` vs pycocoevalcap 1.2, same corpus, same values.

Corpus: `n_images` synthetic images x 5 references (a small grammar, ~100 words) give the document frequencies.
A step scores `batch` images x `k` candidates. Three ways to get those `batch * k` numbers:

- `CiderD` (ours): IDF computed once at construction; per call, "warm" = the images' reference matrices are in its
  cache (the default keeps every image it has seen: from the second epoch of SCST on, every call is warm), "cold" =
  the cache is emptied before every call, so the 8 images' references are cooked in the call (the first epoch, or a
  `cache_size` smaller than the dataset). Timed interleaved with the pycocoevalcap path, as other work runs between
  reward calls in training, and also back to back.
- pycocoevalcap `Cider().compute_score` on the same corpus: it takes the IDF from the references it is given and one
  candidate per image, so the 40 values need k calls over the whole corpus (every image needs a candidate; the
  other images get their first reference). This is what "pycocoevalcap on the same corpus" costs.
- pycocoevalcap's own `CiderScorer` code with its document frequencies computed once and only the 40 pairs scored
  (`compute_cider` on those pairs, with log N of the corpus): the fastest honest use of its code, and the
  baseline the speed-up target is measured against.

All three are asserted equal (1e-6) before anything is timed.
"""
import platform, random, statistics, time
from pathlib import Path
import numpy as np
from fastcore.script import call_parse
from pycocoevalcap.cider.cider import Cider
from pycocoevalcap.cider.cider_scorer import CiderScorer, cook_refs, cook_test
from dico_nb.reward import CiderD

NOUNS = ('man woman person boy girl child dog cat horse cow sheep bird elephant giraffe zebra bear bus car truck train '
         'bike motorcycle boat plane kite table chair bench sofa bed plate pizza sandwich cake banana bowl cup laptop '
         'phone clock tree street field beach road river snow grass building window kitchen').split()
ADJS = 'red blue green yellow white black brown small large big young old wooden tall little'.split()
VERBS = ('sitting standing riding eating holding walking near on under beside behind in front of next to with '
         'looking at playing in flying over').split()

def sentence(rng):
    "One synthetic caption: noun phrase, relation, noun phrase (sometimes a second clause)."
    def np_(): return ' '.join([rng.choice(['a', 'the', 'two', 'a'])] + rng.sample(ADJS, rng.randint(0, 2)) + [rng.choice(NOUNS)])
    parts = [np_(), rng.choice(VERBS), np_()]
    if rng.random() < .4: parts += [rng.choice(['and', 'while', 'with']), rng.choice(VERBS), np_()]
    return ' '.join(parts)

def corpus(n_images, n_refs=5, seed=0):
    rng = random.Random(seed)
    return {f'img{i}': [sentence(rng) for _ in range(n_refs)] for i in range(n_images)}

def candidates(refs, k, rng):
    "k beam-like candidates: a reference, edited references (dropped / repeated words), a random caption."
    out = [rng.choice(refs)]
    while len(out) < k:
        w = rng.choice(refs).split()
        r = rng.random()
        if r < .3 and len(w) > 3: del w[rng.randrange(len(w))]
        elif r < .6: w.insert(rng.randrange(len(w)), w[rng.randrange(len(w))])
        elif r < .8: w = sentence(rng).split()
        out.append(' '.join(w))
    return out

class _Corpus(list):
    "The pairs to score, reporting the corpus size as its length (pycocoevalcap sets log N from `len(crefs)`)."
    def __init__(self, items, n): super().__init__(items); self.n = n
    def __len__(self): return self.n

def pycoco_cached_df(gts):
    "Document frequencies of the corpus computed once with pycocoevalcap's own code."
    cs = CiderScorer()
    cs.crefs = [cook_refs(r) for r in gts.values()]
    cs.compute_doc_freq()
    return cs.document_frequency

def pycoco_pairs(df, n_images, cands, refs):
    "pycocoevalcap's `compute_cider` on just these (candidate, references) pairs, with the corpus IDF."
    cs = CiderScorer()
    cs.document_frequency = df  # a defaultdict(float): lookups of unseen n-grams give 0, as in pycocoevalcap
    cs.ctest = [cook_test(c) for c in cands]
    cs.crefs = _Corpus([cook_refs(r) for r in refs], n_images)
    return np.array(cs.compute_cider())

def timeit(fs, repeats):
    "Median, min, max seconds per call of each function in `fs`, calls interleaved so that load hits all alike."
    ts = [[] for _ in fs]
    for _ in range(repeats):
        for f, t in zip(fs, ts):
            t0 = time.perf_counter(); f(); t.append(time.perf_counter() - t0)
    return [(statistics.median(t), min(t), max(t)) for t in ts]

@call_parse
def main(n_images:int=5000, # images in the corpus (x5 references) that give the IDF
         batch:int=8,       # images per SCST step
         k:int=5,           # candidates per image
         repeats:int=50,    # timed calls of the fast paths (the full-corpus pycocoevalcap path runs twice)
         out:str='bench/bench_cider.md'): # where the result table goes
    gts = corpus(n_images)
    rng = random.Random(1)
    keys = rng.sample(list(gts), batch)
    cands = [candidates(gts[i], k, rng) for i in keys]                               # [batch][k]

    t0 = time.perf_counter(); cider = CiderD(gts); t_init = time.perf_counter() - t0
    ours = cider(cands, keys).numpy()                                                # [batch, k]

    # pycocoevalcap on the whole corpus: one call per candidate column
    def full_corpus():
        cols = []
        for j in range(k):
            res = {i: [rs[0]] for i, rs in gts.items()}
            res.update({i: [c[j]] for i, c in zip(keys, cands)})
            _, scores = Cider().compute_score(gts, res)
            idx = {i: n for n, i in enumerate(gts)}
            cols.append(scores[[idx[i] for i in keys]])
        return np.stack(cols, 1)
    full = full_corpus()
    df = pycoco_cached_df(gts)
    flat_c = [c for cs in cands for c in cs]; flat_r = [gts[i] for i in keys for _ in range(k)]
    pairs = pycoco_pairs(df, n_images, flat_c, flat_r).reshape(batch, k)
    np.testing.assert_allclose(ours, full, atol=1e-6, rtol=0)
    np.testing.assert_allclose(ours, pairs, atol=1e-6, rtol=0)
    print(f'values equal (max |diff| {np.abs(ours - full).max():.1e}); mean CIDEr-D {ours.mean():.3f}, '
          f'range {ours.min():.3f}..{ours.max():.3f}')

    def cold(): cider.cache.clear(); cider(cands, keys)
    warm_t, cold_t, pairs_t = timeit([lambda: cider(cands, keys), cold,
                                      lambda: pycoco_pairs(df, n_images, flat_c, flat_r)], repeats)
    alone_t, = timeit([lambda: cider(cands, keys)], repeats)
    full_t, = timeit([full_corpus], 2)
    ms = lambda t: f'{1e3*t[0]:.2f} ms (min {1e3*t[1]:.2f}, max {1e3*t[2]:.2f})'
    rows = [('`CiderD`, warm cache, calls back to back (CPU caches hot)', alone_t, ''),
            ('`CiderD`, warm cache (references cooked at an earlier call)', warm_t, ''),
            ('`CiderD`, cold cache (the 8 images\' references cooked in the call)', cold_t, ''),
            ('pycocoevalcap `CiderScorer`, corpus IDF computed once, 40 pairs scored', pairs_t, 'x'),
            (f'pycocoevalcap `Cider().compute_score` on the corpus ({k} calls)', full_t, 'x')]
    ratio = lambda t, r: f"{t[0]/warm_t[0]:.0f}x / {t[0]/cold_t[0]:.1f}x" if r else ''
    table = (f"{batch} images x {k} candidates = {batch*k} CIDEr-D values per call; IDF from {n_images} images x 5 "
             f"synthetic references; {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
             f"median of {repeats} calls, interleaved round-robin between the 2nd-4th rows as other work runs between "
             f"reward calls in training (2 calls for the last row). `CiderD(corpus)` construction: {t_init:.2f} s.\n\n"
             "| method | time per call | `CiderD` is faster by (warm / cold) |\n|---|---|---|\n" +
             ''.join(f"| {name} | {ms(t)} | {ratio(t, r)} |\n" for name, t, r in rows))
    print(table); Path(out).write_text(table)
