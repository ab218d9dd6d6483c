#!/usr/bin/env python
"""Where a beam-search step's time goes: `dico_nb.decoding.beam_search` (timed through its `mark` hook) against
transformers' `generate` (its beam-search helpers, the model's forward and the log-softmax wrapped with timers),
same weights, same encoder output, calls interleaved (`common.interleaved`).

Phases, per call and per decoder step:
- decoder step: the decoder's forward on the last token of every live row, the LM head, the log-softmax;
- top-k: the 2k best continuations of each image (transformers' `_get_top_k_continuations` also gathers the
  candidates' sequences and beam indices there; ours does that under bookkeeping);
- cache reorder: the self-attention cache follows the surviving beams (`reorder` / the cache's `reorder_cache`);
- bookkeeping: candidate sequences, the pool of finished hypotheses, the next live beams, the stopping test
  (transformers: `_get_running_beams_for_next_iteration`, `_update_finished_beams`, the stopping criteria and
  heuristic; its other loop lines and its setup are 'other');
- finished images leave (ours): the rows of images whose search is over are dropped from beams, cache and
  cross-attention keys/values;
- setup: ours computes the cross-attention keys/values once per image; transformers' 'other' holds its setup
  (the encoder output copied per beam, the prefill bookkeeping) and the loop's remaining lines.
`ends=True` decodes with a decoder that ends its captions (`common.end_captions`; random weights never do), so that
finished images leave our batch and stop both searches early. `ops=True` also prints torch.profiler's busiest ops.

    python bench/beams_profile.py --size paper --ends --max_len 30 --length_penalty 0
"""
import contextlib, functools, statistics, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import decoding_setup, beam_agreement, interleaved, Phases, sync, TINY, TINY_VIT, PAPER, VIT_L14_STUB  # sets HF_HUB_OFFLINE=1
import torch, transformers
from dico_nb.tokens import EOS_ID, PAD_ID
from dico_nb.decoding import beam_search

B, K = 8, 5

class HFTimer:
    "Seconds in wrapped calls by phase, for one `generate` call per row; nested wrapped calls count for the outermost."
    def __init__(self, device='cpu'): self.device, self.runs, self.depth = device, [], 0
    def start(self): self.runs.append({}); self.t0 = time.perf_counter()
    def stop(self):
        "End the row: the time outside every wrapped call is 'other'."
        sync(self.device); r = self.runs[-1]
        r['other'] = time.perf_counter() - self.t0 - sum(v for n, v in r.items() if n != 'steps')
    def wrap(self, f, phase):
        @functools.wraps(f)
        def timed(*a, **kw):
            if self.depth or not self.runs: return f(*a, **kw)
            self.depth += 1; sync(self.device); t = time.perf_counter()
            try: return f(*a, **kw)
            finally:
                sync(self.device); r = self.runs[-1]; r[phase] = r.get(phase, 0.) + time.perf_counter() - t; self.depth -= 1
                if phase == 'decoder step' and f.__name__ == 'forward': r['steps'] = r.get('steps', 0) + 1
        return timed

@contextlib.contextmanager
def hf_timers(gpt, timer:HFTimer):
    "Wrap `gpt`'s forward and beam-search helpers, the log-softmax and every cache class's `reorder_cache` while active."
    import transformers.cache_utils as cu, transformers.generation.stopping_criteria as sc
    F = torch.nn.functional
    on_model = {'forward': 'decoder step', '_get_top_k_continuations': 'top-k', '_get_running_beams_for_next_iteration': 'bookkeeping',
                '_update_finished_beams': 'bookkeeping', '_check_early_stop_heuristic': 'bookkeeping',
                '_beam_search_has_unfinished_sequences': 'bookkeeping'}
    on_classes = [(c, 'reorder_cache', 'cache reorder') for c in vars(cu).values() if isinstance(c, type) and 'reorder_cache' in vars(c)]
    on_classes += [(sc.StoppingCriteriaList, '__call__', 'bookkeeping'), (F, 'log_softmax', 'decoder step')]
    saved = [(c, n, vars(c)[n]) for c, n, _ in on_classes]
    try:
        for n, phase in on_model.items(): setattr(gpt, n, timer.wrap(getattr(gpt, n), phase))
        for c, n, phase in on_classes: setattr(c, n, timer.wrap(getattr(c, n), phase))
        yield timer
    finally:
        for n in on_model: delattr(gpt, n)
        for c, n, f in saved: setattr(c, n, f)

def profile_beams(size='paper', repeats=3, max_len=30, length_penalty=0., ends=True, device='cpu', ops=False) -> dict:
    "Median seconds per call and per decoder step of each phase, ours and transformers', and the agreement of their beams."
    vision, sizes = (TINY_VIT, TINY) if size == 'tiny' else (VIT_L14_STUB, PAPER)
    with tempfile.TemporaryDirectory() as d: model, ref, memory = decoding_setup(d, vision, sizes, batch=B, ends=ends)
    model, ref, memory = model.to(device), ref.to(device), memory.to(device)
    ph, hf = Phases(device), HFTimer(device)
    def ours_mark(name):
        ph(name)
        if name == 'decoder step': ph.runs[-1]['steps'] = ph.runs[-1].get('steps', 0) + 1
    def ours(): return beam_search(model, memory, K, max_len, length_penalty, mark=ours_mark)
    def peer():
        with hf_timers(ref.gpt, hf):
            hf.start(); out = ref.generate(memory, K, max_len, scores=False, length_penalty=length_penalty); hf.stop()
        return out
    b = beam_search(model, memory, K, max_len, length_penalty)                    # warm-up, and the beams compared
    agree = beam_agreement(b, ref.generate(memory, K, max_len, length_penalty=length_penalty), B, K)
    if length_penalty: agree.pop('logprob_diff', None)                          # transformers' scores are then normalised
    ts = interleaved(dict(ours=ours, peer=peer), repeats, device, warmup=0, phases=dict(ours=ph))
    out = dict(check=dict(agree, ended=(b.tokens == EOS_ID).any(-1).float().mean().item(),
                          length=(b.tokens != PAD_ID).sum(-1).float().mean().item()),
               seconds={n: statistics.median(t) for n, t in ts.items()})
    for side, runs in (('ours', ph.runs), ('transformers', hf.runs)):
        names = list(dict.fromkeys(n for r in runs for n in r if n != 'steps'))
        med = {n: statistics.median(r.get(n, 0.) for r in runs) for n in names}
        n_steps = statistics.median(r.get('steps', 0) for r in runs)
        out[side] = dict(phases=med, steps=n_steps, per_step_ms={n: 1e3 * v / max(1, n_steps) for n, v in med.items()})
    if ops: out['ops'] = {n: op_table(f) for n, f in dict(ours=lambda: beam_search(model, memory, K, max_len, length_penalty),
                                                          transformers=lambda: ref.generate(memory, K, max_len, scores=False, length_penalty=length_penalty)).items()}
    return out

def op_table(f, rows=12) -> str:
    "torch.profiler's busiest ops (self CPU time) over one call of `f`."
    from torch.profiler import profile, ProfilerActivity
    with profile(activities=[ProfilerActivity.CPU]) as prof: f()
    return prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=rows)

def profile_table(res) -> str:
    "Markdown: each phase's median ms per call and per decoder step, ours and transformers'."
    names = list(dict.fromkeys([*res['ours']['phases'], *res['transformers']['phases']]))
    head = ('| phase | ours, ms per call | ours, ms per step | transformers, ms per call | transformers, ms per step |\n'
            '|---|---|---|---|---|\n')
    cell = lambda side, n, key, scale: f"{scale * res[side][key][n]:.1f}" if n in res[side][key] else ''
    body = ''.join(f"| {n} | {cell('ours', n, 'phases', 1e3)} | {cell('ours', n, 'per_step_ms', 1)} | "
                   f"{cell('transformers', n, 'phases', 1e3)} | {cell('transformers', n, 'per_step_ms', 1)} |\n" for n in names)
    tot = lambda side: sum(res[side]['phases'].values())
    return head + body + (f"| **total** (decoder steps: ours {res['ours']['steps']:g}, transformers {res['transformers']['steps']:g}) | "
                          f"**{1e3 * tot('ours'):.0f}** | **{1e3 * tot('ours') / max(1, res['ours']['steps']):.1f}** | "
                          f"**{1e3 * tot('transformers'):.0f}** | **{1e3 * tot('transformers') / max(1, res['transformers']['steps']):.1f}** |\n")

if __name__ == '__main__':
    from fastcore.script import call_parse
    import os

    @call_parse
    def main(size:str='paper',           # 'tiny' or 'paper' (257 encoder tokens, decoder 3 x 512, vocabulary 49409)
             max_len:int=30,             # maximum length, BOS included
             length_penalty:float=0.,    # 0: both sides return the same beams; 1: the reference's (transformers 5.x differs)
             ends:bool=False,            # a decoder that ends its captions (`common.end_captions`)
             repeats:int=3,              # timed calls per side, interleaved
             threads:int=1,              # torch threads
             ops:bool=False):            # also print torch.profiler's busiest ops of each side
        "Print the per-step profile of both beam searches."
        torch.set_num_threads(threads); transformers.logging.set_verbosity_error()
        load0 = os.getloadavg()
        res = profile_beams(size, repeats, max_len, length_penalty, ends, ops=ops)
        print(f"beam search {size}, k={K}, batch {B}, len {max_len}, lp {length_penalty:g}, ends={ends}, {threads} thread(s), "
              f"load average {load0[0]:.1f} -> {os.getloadavg()[0]:.1f}; check {res['check']}; "
              f"median s/call ours {res['seconds']['ours']:.3f}, transformers {res['seconds']['peer']:.3f}")
        print(profile_table(res))
        for side, table in res.get('ops', {}).items(): print(f'--- {side}\n{table}')
