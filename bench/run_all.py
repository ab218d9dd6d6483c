#!/usr/bin/env python
"""All of dico_nb's speed and memory claims in one command: `python bench/run_all.py` writes `bench/RESULTS.md`.

Each measurement lives in its own file and returns a dict; this file runs them in turn and hands them to `report.py`:
1. `dico_speed.py`: a DiCO step, the package's `dico_step` against the reference's recipe on transformers: the
   paper's configuration as each side's users run it (the headline), and the kind peer of earlier runs.
   `head_speed.py`: the policy's pass with the DiCO loss and backward, the LM head three ways (gradient formed in the
   forward pass, all logits at once, logits recomputed in the backward), alone.
2. `beams_speed.py`: beam search (5 beams, all returned) against transformers' `generate`, also with a decoder that
   ends its captions; `beams_profile.py`: where a step of each goes (decoder step, top-k, cache reorder, bookkeeping).
3. `xe_speed.py`: an XE step reading cached trunk features against running the trunk.
4. `cider_speed.py`: CIDEr-D against pycocoevalcap.
5. `memory.py`: peak memory of a DiCO step against an XE step, each in a fresh process.
Each ratio is against a peer timed in the same run, calls interleaved (A B, B A, ...) so that other jobs on the machine
slow both sides alike. Random weights everywhere (nothing can be downloaded).
"""
import os, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import gpu_peak_tflops, cpu_peak_gflops  # sets HF_HUB_OFFLINE=1
import torch, transformers
from fastcore.script import call_parse
from dico_speed import bench_dico
from beams_speed import bench_beams
from beams_profile import profile_beams, profile_table
from head_speed import bench_head, head_memory
from xe_speed import bench_xe
from cider_speed import bench_cider
from memory import bench_memory
import report

SETUPS_TEXT = """Setups. **DiCO, the paper's configuration** (headline): batch 8, 5 beams all returned, max length 30 (BOS
included), length penalty 1 (transformers 4.20 semantics on our side; both sides return the same candidates here,
checked: with random weights no hypothesis ends before the length limit, so the two length conventions rank them
alike), a ViT-L/14 trunk (257 tokens of width 1024), PAC-S's formula (w = 2, no text prefix, as the reference's
training reward) on a ViT-B/32 CLIP. Ours = `dico_nb.train.dico_step` as the README tells a COCO user to run it: trunk
features from a `FeatureCache` (fp16 on disk, `scripts/cache_features.py` + `--features`), the reward's image
features by key from the `Scorer`'s cache, reward text trimmed to the longest candidate, the policy's pass chunked
over the LM head with the head's gradient formed in the forward pass (`Captioner.seq_loss`), the reference's chunked
too (`seq_logprobs`, no gradient). "ours, reward images every step" is the same step with fresh sample keys, so
that the reward's image tower runs (what a single pass over COCO gets from the default 4096-image LRU cache: a key
comes back only in the next epoch). The peer follows aimagelab/DiCO's `DiCOTrainer`: trunk every step, beam search
with autograd recording (`generate_with_backpropagation` = stock `generate` without its `no_grad`) + transition
scores, whose graph lives until the step ends, the reward's image tower every step and candidates 0-padded to 77
tokens, the encoder output repeated per candidate for the policy's and reference's GPT-2 passes over the candidates
padded to the maximum length, `log_softmax` + `gather`. **DiCO, kind peer**: a ViT-B/32 trunk that both sides run
every step, length penalty 0, max length 20, transformers' stock `generate` (no autograd), the same `Scorer` on
both sides with fresh keys and the "A photo depicts" prefix. Both: eval mode (no dropout) for policy and reference,
policy and reference with different weights. Paper-size captioner: encoder and decoder 3 x 512 (8 heads, FFN 2048),
vocabulary 49409, full LM head.
Beam search decodes from one precomputed encoder output (tiny: 17 tokens; paper: 257 tokens, ViT-L/14's). XE: batch
8, one caption of 10-19 tokens per image, AdamW; the peer column runs the open_clip trunk (random weights) every step.
CIDEr-D: synthetic corpus (`bench_cider.py`), 8 images x 5 candidates; peer = pycocoevalcap 1.2's `CiderScorer`
scoring just those 40 pairs with the corpus document frequencies computed once; "cooked in the call" = our reference
cache emptied before every call. FLOPs are counted with `torch.utils.flop_counter.FlopCounterMode` on our step
(matmuls and convolutions; on CPU it does not see scaled-dot-product attention, a few % at these sizes).

Reading the targets. The sequence log-probs chunked over the LM head keep a DiCO step's memory growth near an XE
step's. `token_logprobs` (behind `seq_logprobs`, which `dico_step` called for the policy until 2026-12-06)
recomputes each chunk's logits in its backward, one more LM-head product (40 candidates x 29 positions x 512 x 49409
x 2 = 59 GFLOP, about a second on one CPU thread, where the head's products bound the step): a function whose output
is the per-position log-probs cannot form the head's gradient in its forward pass, since that gradient depends on
the upstream gradient of every position (`02_model`). `Captioner.seq_loss` (`head_loss`) takes the loss instead, as
each image's share, and forms the head's exact gradient from each chunk's logits while they are in memory: the three
LM-head products of all logits at once, none recomputed, with one image's logits and a [V, D] gradient (101 MB fp32
at paper size, the size of the head's gradient that any backward makes) held from the forward to the backward. The
"policy pass" rows time the three ways on the policy's teacher-forced pass with the DiCO loss and its backward alone
(decoder + head from a fixed encoder output; the encoder's share is the same on every side); the DiCO-step rows time
`dico_step`, which calls `seq_loss` (chunked) or, with `HEAD_CHUNK = 0`, all logits at once. Its phases are timed in the
order it runs them: the reference's pass first (the loss needs its log-probs when the policy's head runs), and
"policy forward" includes forming the head's gradient, so "loss + backward" is the rest of the backward. Without a gradient (the reference model's pass) chunking costs nothing.

What the figures do not show. Random weights end no caption before the length limit: the beam-search rows marked
"captions end" use a decoder whose EOS logit grows with the position (`common.end_captions`: a ramp in one dimension
of the learned positions that the tied EOS row reads; the same weights on both sides), so that captions end after
3-20 tokens, finished images leave our batch, and both searches stop early; the DiCO rows still decode random
weights, so neither side's teacher-forced passes save anything on padding there. With length penalty 1 transformers
5.x and our 4.20 semantics stop and rank differently once captions end (`03_decoding`), so that row's two sides do
not return the same beams (their agreement is listed) and it has no target. Both DiCO sides run eval
mode; there the package's step encodes the policy's features once for the beam search and the teacher-forced pass,
while in train mode (the default, the reference's dropout) it encodes twice, as the reference does (one encoder
forward more: 3 BERT layers over 8 x 257 tokens, ~40 GFLOP, under a second here). `beam_search(compiled=True)` (torch.compile) is not timed on the CPU: it compiles for about a minute, and the
step it compiles is dominated there by the LM-head matmul that compiling does not change; the GPU check times it.

Where a beam-search step goes (the profile tables). Ours is timed through `beam_search`'s `mark` hook, transformers'
`generate` through timers wrapped around its model forward, log-softmax, beam-search helpers and cache reorder;
'decoder step' is the decoder on the last tokens + the LM head + the log-softmax on both sides, transformers'
'top-k' also gathers the candidates' sequences, and its 'other' holds its setup and the loop's remaining lines. On
one CPU thread at paper size the decoder step is ~95% of both searches, and within it the 40 x 512 x 49409 LM-head
product alone about half (torch.profiler: `aten::mm`, ~80 GFLOP/s, the rate of that product run alone on the core), the same work on both
sides while no caption ends: that is why the ratio stays near 1 there and a 2x target cannot be met on a CPU without
less head work (a restricted vocabulary). Ours gains where a step does less: the first step runs one row per image
(every beam is BOS), the top-k reads each beam's 2k best tokens instead of adding the beam's score to all k x V
candidates, and finished images leave the batch.

GPU: `bench/gpu_check.sh` (CUDA paths under bf16 / fp16 autocast, a DiCO step and beam search at paper size against
the transformers peer, peak memory, decoder FLOP/s as a share of the GPU's bf16 peak) is ready to run; it has not
been run: there was no GPU in this session, so there are no GPU figures here.
"""

@call_parse
def main(quick:bool=False,       # smoke run: tiny sizes only, 1-2 repeats, small CIDEr corpus; prints, writes only with --out
         device:str='cpu',       # 'cpu' or 'cuda'
         amp:str='bf16',         # CUDA autocast: 'bf16', 'fp16' or 'none' (CPU: always fp32)
         repeats:int=0,          # timed calls per side (0: defaults, fewer at paper size)
         threads:int=1,          # torch threads (0: torch's default); 1: other jobs share the cores (see RESULTS.md)
         peak_tflops:float=0.,   # the GPU's peak TFLOP/s (0: from a table of known GPUs)
         out:str=None):          # result file (default bench/RESULTS.md; quick runs only print)
    "Run every benchmark and write the results table."
    if threads: torch.set_num_threads(threads)
    transformers.logging.set_verbosity_error()
    cuda = torch.device(device).type == 'cuda'
    amp = amp if cuda else 'none'
    peak = gpu_peak_tflops(peak_tflops) if cuda else 0.
    out = out or (None if quick else 'bench/RESULTS.md')
    # timed calls per side: many where a call is cheap, few where it takes tens of seconds on 2 loaded CPU cores
    n = (dict(tiny=10, headline=5, dico=3, head=5, beams=5, profile=3, xe=5, xe_l14=2, cider=50) if not quick else
         dict(tiny=2, headline=1, dico=1, head=1, beams=1, profile=1, xe=1, xe_l14=1, cider=10))
    if cuda: n = {k: max(v, 10) for k, v in n.items()}
    if repeats: n = {k: repeats for k in n}
    t_start, load0 = time.time(), os.getloadavg()
    core = 0. if cuda else cpu_peak_gflops()   # fp32 GFLOP/s of a 2048^2 matmul with the torch threads set above
    say = lambda *a, **kw: print(f'[{time.time() - t_start:5.0f}s]', *a, flush=True, **kw)
    rep = report.Report(say)

    def dico_note(label, c):
        rep.notes.append(f"DiCO {label}: loss {c['loss']:.4f}, |loss diff| {c['loss_diff']:.1e}, max |log-prob diff| {c['logp_diff']:.1e}, "
                         f"LM-head grad max rel. diff {c['grad_rel_diff']:.1e}, trunk features max diff {c['feats_diff']:.1e}"
                         + (f", reward max diff {c['reward_diff']:.1e}" if 'reward_diff' in c else '')
                         + f"; beam-search candidates identical on both sides: {c['same_beams']:.0%} (length {c['length']}, "
                         f"{c['ended']:.0%} ended with EOS)")
    # 1. DiCO step
    dico_runs = [('tiny', 'kind', n['tiny'])] + ([] if quick else [('paper-L14', 'paper', n['headline']), ('paper-B32', 'kind', n['dico'])])
    for size, recipe, r in dico_runs:
        say(f'DiCO {size} {recipe}')
        res = bench_dico(size, recipe, r, device, amp)
        if recipe == 'paper':
            rep.add(1, "**DiCO step, the paper's configuration**, images/s", 'ViT-L/14 trunk, PAC-S ViT-B/32, k=5, len 30, lp 1, batch 8',
                    res, 3, 'aimagelab/DiCO recipe', peak=peak)
            rep.add(1, "DiCO step, paper's configuration, ours with the reward's images every step", 'same', res, None,
                    'aimagelab/DiCO recipe', ours='ours_fresh', peak=peak)
            rep.add(1, "DiCO step, paper's configuration, ours with all logits at once (`HEAD_CHUNK = 0`)", 'same', res, None,
                    'aimagelab/DiCO recipe', ours='ours_full', peak=peak)
            rep.add(1, "DiCO step, paper's configuration: chunked log-probs against all logits at once (no slower?)", 'same', res, 1,
                    'ours with `HEAD_CHUNK = 0`', peer='ours_full', peak=peak)
            if core:
                rep.sections.append((f"Work in each phase of our DiCO step, paper's configuration (`dico_step` with the reward's images cached; "
                                     f"matmul and convolution FLOPs counted by `FlopCounterMode` per phase, median seconds of the timed "
                                     f"repeats), against this core's measured peak of {core:.0f} GFLOP/s (fp32 2048 x 2048 matmul, "
                                     f"{torch.get_num_threads()} thread):", report.work_table(res['check']['phase_flops'], res['phases']['ours'], core)))
        else:
            rep.add(1, 'DiCO step, kind peer, images/s', f'{size}, trunk run by both, k=5, len 20, lp 0', res, None,
                    'transformers recipe, stock `generate`', peak=peak)
        dico_note(f'{size} ({recipe} recipe)', res['check'])
        rep.phases[f'{size} {recipe}'] = res['phases']
    # 1b. the policy's pass with the DiCO loss and backward: the LM head three ways
    for size in ['tiny'] + ([] if quick else ['paper']):
        say(f'policy pass {size}')
        res = bench_head(size, n['tiny'] if size == 'tiny' else n['head'], device, amp)
        what, full = f'{size}, 8 x 5 candidates of 10-29 targets, decoder + head only', 'all logits at once (`chunk=0`)'
        rep.add(1, 'policy pass + DiCO loss + backward, images/s: LM head chunked, its gradient formed in the forward (`seq_loss`), '
                'against all logits at once (no slower?)', what, res, 1 if size == 'paper' else None, full, peer='full', peak=peak)
        rep.add(1, 'policy pass + DiCO loss + backward, images/s: LM head chunked, logits recomputed in the backward '
                '(`seq_logprobs` + `dico_loss`), against all logits at once', what, res, None, full, ours='recompute', peer='full', peak=peak)
        c = res['check']
        note = (f"policy pass {size}: loss {c['loss_full']:.4f} with all logits, |diff| {abs(c['loss_ours'] - c['loss_full']):.1e} "
                f"`seq_loss`, {abs(c['loss_recompute'] - c['loss_full']):.1e} recomputing; LM-head gradient max rel. diff "
                f"{c['grad_rel_diff_ours']:.1e} / {c['grad_rel_diff_recompute']:.1e}")
        if not cuda:
            m = head_memory(size, threads)
            note += '; peak-RSS growth of one call (fresh processes): ' + ', '.join(
                f"{v} {m[v]['growth'] / 2**20:.0f} MiB" for v in ('ours', 'full', 'recompute')) + ' (ours = `seq_loss`)'
        rep.notes.append(note)
    # 2. beam search
    beam_runs = [('tiny', 20, 0., False)] + ([] if quick else [('paper', 30, 1., False), ('paper', 20, 0., False),
                                                              ('paper', 30, 0., True), ('paper', 30, 1., True)])
    for size, max_len, lp, ends in beam_runs:
        say(f'beams {size} {max_len} {lp} ends={ends}')
        res = bench_beams(size, n['tiny'] if size == 'tiny' else n['beams'], device, amp, max_len, lp, ends)
        c = res['check']
        label = (f"{size}, {'257' if size == 'paper' else '17'} encoder tokens, len {max_len}, lp {lp:g}"
                 + (f", captions end (mean length {c['length']:.1f})" if ends else ''))
        rep.add(2, 'beam search (k=5, all returned), captions/s', label, res, None if ends and lp else 2, 'transformers `generate`', peak=peak)
        rep.notes.append(f"beam search {label}: top beam identical for {c['top1']:.0%} of images, all 5 for {c['all']:.0%}, "
                         f"{c['ended']:.0%} of beams ended with EOS" + (f", max |log-prob diff| {c['logprob_diff']:.1e}" if 'logprob_diff' in c else ''))
    # where a beam-search step goes
    for size, max_len, lp, ends in ([('tiny', 20, 0., True)] if quick else [('paper', 30, 1., False), ('paper', 30, 0., True)]):
        say(f'beam-search profile {size} {max_len} {lp} ends={ends}')
        res = profile_beams(size, n['profile'], max_len, lp, ends, device)
        rep.sections.append((f"Where a beam-search step's time goes, {size}, len {max_len}, lp {lp:g}"
                             + (f", captions end (mean length {res['check']['length']:.1f})" if ends else ', no caption ends')
                             + f" (`bench/beams_profile.py`; median over {n['profile']} interleaved calls per side, timers on; "
                             f"beams identical for {res['check']['all']:.0%} of images):", profile_table(res)))
    # 3. XE step
    for size in ['tiny'] + ([] if quick else ['paper-B32', 'paper-L14']):
        say(f'XE {size}')
        res = bench_xe(size, n['tiny'] if size == 'tiny' else n['xe_l14'] if size == 'paper-L14' else n['xe'], device, amp)
        rep.add(3, 'XE step (fwd+bwd+AdamW), images/s, cached features', f'{size}, batch 8', res,
                5 if size == 'paper-L14' else None, 'trunk every step', peak=peak)
    # 4. CIDEr-D
    for n_images in ([500] if quick else [500, 20_000]):
        say(f'CIDEr {n_images}')
        res = bench_cider(n_images, n['cider'])
        size = f'{n_images} images x 5 refs'
        rep.add(4, 'CIDEr-D, 40 candidates/call, references cooked in the call', size, res, 10, 'pycocoevalcap `CiderScorer`')
        rep.add(4, 'CIDEr-D, 40 candidates/call, references cached', size, res, 10, 'pycocoevalcap `CiderScorer`', ours='warm')
        rep.notes.append(f"CIDEr-D {size}: values equal (max |diff| {res['check']['max_diff']:.1e}, mean {res['check']['mean']:.3f}); "
                         f"one-off IDF setup {res['check']['setup_s']['ours']:.1f} s ours, {res['check']['setup_s']['peer']:.1f} s pycocoevalcap")
    # 5. memory
    labels = (('dico', 'DiCO step, ours'), ('dico-full', 'DiCO step, ours, all logits at once'),
              ('dico-peer', 'DiCO step, reference recipe'), ('xe', 'XE step, ours'))
    for size, recipe in [('tiny', 'kind')] + ([] if quick else [('paper-B32', 'kind'), ('paper-L14', 'paper')]):
        say(f'memory {size} {recipe}')
        rep.memory(f'{size}, {recipe} recipe', bench_memory(size, recipe, device, amp, threads), labels)

    cmd = 'python bench/run_all.py' + (' --quick' if quick else '') + (f' --device {device} --amp {amp}' if cuda else '')
    report.write(rep, out, cmd, device, amp, (time.time() - t_start) / 60, load0, SETUPS_TEXT, peak)
    if out: say(f'wrote {out}')
