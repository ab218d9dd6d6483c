#!/usr/bin/env python
"""All of dico_nb's speed and memory claims in one command: `python bench/run_all.py` writes `bench/RESULTS.md`.

Each measurement is a ratio against a peer timed in the same run, calls interleaved (A B, B A, ...) so that other
jobs on the machine slow both sides alike; the table gives the median and the min-max of the repeats, and the
ratio as the median (min-max) of the per-repeat ratios. Random weights everywhere (nothing can be downloaded).

1. DiCO step (batch 8, 5 beams all returned, max length 20, up to `backward`): ours = `dico_nb.train`'s pieces
   (trunk once, `beam_search` without grad, `ClipReward`/`Scorer`, teacher-forced policy log-probs with grad,
   reference log-probs without grad, `dico_loss`) vs the reference implementation's recipe on HF transformers with
   the same weights: CLIPVisionModel once per step (its `vision_encoder_forward`), BERT encoder, GPT-2
   `generate(num_beams=5, num_return_sequences=5, output_scores=True, return_dict_in_generate=True)` +
   `compute_transition_scores`, policy and reference forwards of GPT-2 on the encoder output repeated per
   candidate, EOS dropped from the inputs, `log_softmax` + `gather`; the same reward and the same loss formula.
   Policy and reference are different weights (else the loss is log 2 whatever the log-probs). Both sides must
   give the same loss on the same candidates before anything is timed.
2. Beam search (5 beams, all returned) vs transformers' `generate`, same weights and encoder output.
3. XE step (forward + backward + AdamW) reading trunk features from a `FeatureCache` vs running the frozen trunk.
4. CIDEr-D of 8 images x 5 candidates: `CiderD` vs pycocoevalcap's `CiderScorer` (corpus IDF computed once).
5. Peak memory of a DiCO step vs an XE step, each in a fresh process.
"""
import contextlib, gc, itertools, multiprocessing as mp, os, random, statistics, sys, tempfile, time
from pathlib import Path
from types import SimpleNamespace as NS
sys.path.insert(0, str(Path(__file__).parent))
from common import (Reference, reference_checkpoint, decoding_setup, beam_agreement, interleaved, sync, count_flops,
                    gpu_peak_tflops, machine, TINY, TINY_VIT, PAPER, VIT_B32, VIT_L14, VIT_L14_STUB)  # HF_HUB_OFFLINE=1
import numpy as np, torch, torch.nn.functional as F
import transformers
from fastcore.script import call_parse
from dico_nb.data import EOS_ID, PAD_ID, BOS_ID
from dico_nb.model import Captioner, CaptionerConfig, tiny_config
from dico_nb.decoding import beam_search
from dico_nb.losses import dico_loss, CiderD
from dico_nb.reward import Scorer, make_clip
from dico_nb.shapes_clip import shapes_clip_arch
from dico_nb.features import cache_features, FeatureCache
from dico_nb.train import dico_step, trunk_features, policy_logprobs, reference_logprobs, eval_mode, make_reference, xe_step, ClipReward

B, K, MAX_LEN = 8, 5, 20  # images per step, beams, longest caption (BOS included)
TINY_REWARD = shapes_clip_arch(image_size=32, patch=8, width=32, layers=2, text_width=32, text_layers=2, embed_dim=32)
# (trunk of the captioner, sizes of encoder/decoder, reward CLIP): PAC-S's default is a ViT-B/32 CLIP
SETUPS = {'tiny': (TINY_VIT, TINY, TINY_REWARD), 'paper': (VIT_B32, PAPER, 'ViT-B-32-quickgelu'),
          'paper-L14': (VIT_L14, PAPER, 'ViT-B-32-quickgelu')}

def amp_ctx(device, amp):
    "Autocast on CUDA (bf16/fp16), nothing on CPU."
    if torch.device(device).type != 'cuda' or amp == 'none': return contextlib.nullcontext()
    return torch.autocast('cuda', dtype=torch.bfloat16 if amp == 'bf16' else torch.float16)

class Phases:
    "Wall time of the named phases of each call of a step (`start()`, then `mark(name)` after each phase)."
    def __init__(self, device): self.device, self.runs = device, []
    def start(self): sync(self.device); self.runs.append({}); self.t = time.perf_counter()
    def __call__(self, name):
        sync(self.device); t = time.perf_counter(); self.runs[-1][name] = t - self.t; self.t = t
    def medians(self): return {n: statistics.median(r[n] for r in self.runs) for n in self.runs[-1]}

def images(size, n=B, seed=0):
    "CLIP-normalised stand-in images `[n, 3, H, W]`."
    return torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(seed))

_calls = itertools.count()
def fresh_keys(n=B):
    "Sample keys never seen before (so the reward's image-feature cache never hits, as within a COCO epoch)."
    c = next(_calls); return [f'{c}__img{i}' for i in range(n)]

# --- 1. DiCO step -------------------------------------------------------------------------------------------------
def dico_setup(name, device='cpu'):
    "Policy and reference on both sides (same weights), the shared reward, the images, and our step's context."
    vision, sizes, reward = SETUPS[name]
    with tempfile.TemporaryDirectory() as d0, tempfile.TemporaryDirectory() as d1:
        stub = dict(vision, num_hidden_layers=1)  # the reference model never runs a trunk: it gets the policy's features
        peer_ref = reference_checkpoint(d0, stub, sizes, seed=0).without_trunk()      # pi_ref (the XE model)
        ours_ref = make_reference(Captioner.from_pretrained(d0))
        peer = reference_checkpoint(d1, vision, sizes, seed=1)                          # pi_theta, other weights
        peer.vis.requires_grad_(False)                                                  # the frozen trunk, as ours
        policy = Captioner.from_pretrained(d1)
    torch.manual_seed(2)
    scorer = Scorer(make_clip(reward).to(device), w=2.0)  # PAC-S's w
    cfg = NS(k=K, max_len=MAX_LEN, length_penalty=0., beta=0.2, tau=300., policy_mode='eval', label_smoothing=0.)  # lp 0: as the peer's `generate`
    ctx = NS(cfg=cfg, features=None, device=torch.device(device), reward=ClipReward(scorer),
             reference=ours_ref.to(device))
    return NS(policy=policy.to(device), peer=peer.to(device), peer_ref=peer_ref.to(device), ctx=ctx,
              pixels=images(vision['image_size']).to(device))

def ours_step(policy, batch, ctx, mark=lambda name: None):
    "`dico_nb.train.dico_step`, phase by phase: loss, candidates `[B*k, L]`, rewards, s_policy, s_ref `[B, k]`."
    cfg, n = ctx.cfg, len(batch['keys'])
    feats = trunk_features(policy, batch, ctx); mark('trunk')                      # [B, S, W], frozen
    with torch.no_grad(), eval_mode(policy):
        tokens = beam_search(policy, policy.encode(feats=feats), cfg.k, cfg.max_len, cfg.length_penalty).tokens.flatten(0, 1)  # [B*k, L]
    mark('beam search')
    rewards = ctx.reward(batch, tokens).view(n, cfg.k); mark('reward')             # [B, k]
    s_policy = policy_logprobs(policy, tokens, feats, ctx).view(n, cfg.k); mark('policy forward')  # [B, k], grad
    s_ref = reference_logprobs(ctx.reference, tokens, feats).view(n, cfg.k)
    mark('reference forward')
    loss, _ = dico_loss(s_policy, s_ref, rewards, cfg.beta, cfg.tau)
    return loss, tokens, rewards, s_policy, s_ref

@torch.no_grad()
def peer_beams(peer:Reference, feats, k=K, max_len=MAX_LEN):
    "The reference's `compute_beam_search`: `generate` with scores, then the per-token log-probs; candidates `[B*k, L]`."
    out = peer.generate(peer.encode(feats), k, max_len)
    peer.gpt.compute_transition_scores(out.sequences, out.scores, out.beam_indices)  # [B*k, L-1], as it does
    return out.sequences

def peer_logprobs(model:Reference, tokens, feats, k=K):
    "The reference's `compute_dico_logps`: GPT-2 on the candidates, EOS dropped from the inputs, log_softmax+gather."
    memory = model.encode(feats).repeat_interleave(k, 0)                          # [B*k, S, D], a copy per candidate
    inputs = tokens.masked_fill(tokens == EOS_ID, PAD_ID)                         # [B*k, L]
    logits = model.gpt(input_ids=inputs, encoder_hidden_states=memory).logits     # [B*k, L, V]
    labels = tokens[:, 1:]                                                         # [B*k, L-1]: BOS dropped
    logp = logits.log_softmax(-1).gather(2, labels[..., None])[..., 0]            # [B*k, L-1] (first L-1 positions)
    return (logp * (labels != PAD_ID)).sum(-1)                                     # [B*k]: EOS in, padding out

def peer_loss(s, feats, tokens, rewards, mark=lambda name: None):
    "Policy (grad) and reference (no grad) log-probs through the HF models, then the same DiCO loss."
    n, cfg = len(rewards), s.ctx.cfg
    s_policy = peer_logprobs(s.peer, tokens, feats, cfg.k).view(n, cfg.k); mark('policy forward')
    with torch.no_grad(): s_ref = peer_logprobs(s.peer_ref, tokens, feats, cfg.k).view(n, cfg.k)
    mark('reference forward')
    return dico_loss(s_policy, s_ref, rewards, cfg.beta, cfg.tau)[0], s_policy, s_ref

def peer_step(s, batch, mark=lambda name: None):
    "One DiCO step the reference's way; returns the loss."
    with torch.no_grad(): feats = s.peer.trunk(batch['images'])                # [B, S, W], once per step as it does
    mark('trunk')
    tokens = peer_beams(s.peer, feats, s.ctx.cfg.k, s.ctx.cfg.max_len); mark('beam search')
    rewards = s.ctx.reward(batch, tokens).view(len(batch['keys']), -1); mark('reward')
    return peer_loss(s, feats, tokens, rewards, mark)[0]

def check_dico(s, package=False) -> dict:
    "Same loss on the same candidates (and same gradient) on both sides; optionally the package's `dico_step` agrees."
    from torch.utils.flop_counter import FlopCounterMode
    batch = dict(images=s.pixels, keys=fresh_keys())
    with torch.no_grad(), FlopCounterMode(display=False) as fc_trunk: feats_ours = s.policy.trunk(s.pixels)  # [B, S, W]
    with torch.no_grad(): feats_peer = s.peer.trunk(s.pixels)
    ctx = NS(**{**vars(s.ctx), 'features': lambda keys: feats_ours})           # the trunk runs once in the check
    if package:                                # our phase-by-phase step is the package's `dico_step`
        torch.testing.assert_close(ours_step(s.policy, batch, ctx)[0], dico_step(s.policy, batch, ctx)[0], rtol=1e-6, atol=1e-7)
    with FlopCounterMode(display=False) as fc:  # the work of one step of ours (also warms ours up)
        loss, tokens, rewards, sp, sr = ours_step(s.policy, batch, ctx)
        s.policy.zero_grad(); loss.backward(); g = s.policy.decoder.tok.weight.grad      # [V, D], tied LM head
    torch.testing.assert_close(feats_peer, feats_ours, rtol=1e-3, atol=1e-3)  # same trunk weights, two implementations
    loss_p, sp_p, sr_p = peer_loss(s, feats_ours, tokens, rewards)              # same features, candidates and rewards
    s.peer.zero_grad(); loss_p.backward(); g_p = s.peer.gpt.transformer.wte.weight.grad
    tokens_p = peer_beams(s.peer, feats_ours)
    L = max(tokens.shape[1], tokens_p.shape[1])
    pad = lambda t: F.pad(t, (0, L - t.shape[1]), value=PAD_ID)                # [B*k, L]
    out = dict(loss=loss.item(), loss_diff=(loss - loss_p).abs().item(), feats_diff=(feats_ours - feats_peer).abs().max().item(),
               logp_diff=max((sp - sp_p).abs().max().item(), (sr - sr_p).abs().max().item()),
               grad_rel_diff=((g - g_p).abs().max() / g.abs().max()).item(),
               same_beams=(pad(tokens) == pad(tokens_p)).all(-1).float().mean().item(),
               flops=fc.get_total_flops(), trunk_flops=fc_trunk.get_total_flops())
    torch.testing.assert_close(loss_p, loss, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(sp_p, sp, rtol=1e-4, atol=2e-3); torch.testing.assert_close(sr_p, sr, rtol=1e-4, atol=2e-3)
    assert out['grad_rel_diff'] < 1e-3, out
    return out

def bench_dico(name, repeats, device, amp, cached=False) -> dict:
    "Images/s of a DiCO step, ours vs the transformers recipe; `cached`: ours reads trunk features from a FeatureCache."
    s = dico_setup(name, device)
    check = check_dico(s, package=name == 'tiny')  # fp32, before anything is timed; it warms both sides up
    if cached:                                 # ours reads the trunk features from disk, the peer runs its trunk
        tmp = tempfile.TemporaryDirectory()
        cache_features(s.policy.trunk, [dict(keys=[f'x__img{i}' for i in range(B)], images=s.pixels)], tmp.name)
        s.ctx.features = FeatureCache(tmp.name)
    ph_o, ph_p = Phases(device), Phases(device)
    def ours():
        s.policy.zero_grad(set_to_none=True); ph_o.start()
        with amp_ctx(device, amp): loss = ours_step(s.policy, dict(images=s.pixels, keys=fresh_keys()), s.ctx, ph_o)[0]
        loss.backward(); ph_o('loss + backward')
    def peer():
        s.peer.zero_grad(set_to_none=True); ph_p.start()
        with amp_ctx(device, amp): loss = peer_step(s, dict(images=s.pixels, keys=fresh_keys()), ph_p)
        loss.backward(); ph_p('loss + backward')
    ts = interleaved(dict(ours=ours, peer=peer), repeats, device, warmup=0)
    flops = check['flops'] + (0 if cached else check['trunk_flops'])  # the work our timed step does
    return dict(ts=ts, flops=flops, check=check, phases=dict(ours=ph_o.medians(), peer=ph_p.medians()), items=B)

# --- 2. beam search -----------------------------------------------------------------------------------------------
def bench_beams(name, repeats, device, amp) -> dict:
    "Captions/s of 5-beam search from the same encoder output, ours vs `generate`."
    vision, sizes = (TINY_VIT, TINY) if name == 'tiny' else (VIT_L14_STUB, PAPER)  # paper: 257 tokens, ViT-L/14's
    with tempfile.TemporaryDirectory() as d: model, ref, memory = decoding_setup(d, vision, sizes, batch=B)
    model, ref, memory = model.to(device), ref.to(device), memory.to(device)
    def ours():
        with amp_ctx(device, amp): return beam_search(model, memory, K, MAX_LEN, 0.)
    def peer():
        with amp_ctx(device, amp): return ref.generate(memory, K, MAX_LEN, scores=False)
    agree = beam_agreement(ours(), ref.generate(memory, K, MAX_LEN), B, K)  # also the warm-up
    return dict(flops=count_flops(ours), ts=interleaved(dict(ours=ours, peer=peer), repeats, device, warmup=0),
                check=agree, items=B * K)

# --- 3. XE step with cached features ------------------------------------------------------------------------------
def captions(n=B, max_len=MAX_LEN, seed=0):
    "Random captions `[n, max_len]`: BOS, 9-18 word ids, EOS, padding."
    g = torch.Generator().manual_seed(seed)
    out = torch.full((n, max_len), PAD_ID)
    for i in range(n):
        m = int(torch.randint(9, max_len - 1, (1,), generator=g))
        out[i, 0], out[i, 1:m + 1], out[i, m + 1] = BOS_ID, torch.randint(0, 49406, (m,), generator=g), EOS_ID
    return out

def xe_setup(name, device='cpu'):
    "A captioner with a random open_clip trunk, a batch, an AdamW optimiser and a feature cache of the batch."
    trunks = {'tiny': None, 'paper': 'ViT-B-32-quickgelu', 'paper-L14': 'ViT-L-14-quickgelu'}
    torch.manual_seed(0)
    cfg = tiny_config() if name == 'tiny' else CaptionerConfig(trunk=trunks[name], trunk_pretrained=None)
    policy = Captioner(cfg).to(device).train()
    size = policy.trunk.visual.image_size
    keys = [f'{i}__img{i}' for i in range(B)]
    batch = dict(images=images(size[0] if isinstance(size, (tuple, list)) else size).to(device), keys=keys,
                 tokens=captions().to(device))
    tmp = tempfile.TemporaryDirectory()
    cache_features(policy.trunk, [batch], tmp.name)
    opt = torch.optim.AdamW([p for p in policy.parameters() if p.requires_grad], lr=2.5e-4)
    ctx = NS(cfg=NS(label_smoothing=0.), device=torch.device(device), features=None)
    return NS(policy=policy, batch=batch, opt=opt, tmp=tmp, ctx=ctx, cached=NS(**{**vars(ctx), 'features': FeatureCache(tmp.name)}))

def bench_xe(name, repeats, device, amp) -> dict:
    "XE steps/s reading cached trunk features vs running the frozen trunk every step."
    s = xe_setup(name, device)
    def step(ctx):
        s.opt.zero_grad(set_to_none=True)
        with amp_ctx(device, amp): loss, _ = xe_step(s.policy, s.batch, ctx)
        loss.backward(); s.opt.step()
    ours, peer = (lambda: step(s.cached)), (lambda: step(s.ctx))
    flops = count_flops(ours)                  # also the warm-up; the trunk already ran to fill the cache
    return dict(flops=flops, ts=interleaved(dict(ours=ours, peer=peer), repeats, device, warmup=0), items=B)

# --- 4. CIDEr-D ---------------------------------------------------------------------------------------------------
def bench_cider(n_images, repeats) -> dict:
    "CIDEr-D of 8 images x 5 candidates: `CiderD` (references cached / cooked in the call) vs pycocoevalcap."
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
    def cold(): cider.cooked.cache_clear(); cider(cands, keys)
    ts = interleaved(dict(ours=cold, warm=lambda: cider(cands, keys), peer=lambda: pycoco_pairs(df, n_images, flat_c, flat_r)), repeats)
    return dict(ts=ts, items=B * K, check=dict(max_diff=float(np.abs(ours - theirs).max()), mean=float(ours.mean()),
                                                 setup_s=dict(ours=t_ours, peer=t_peer)))

# --- 5. peak memory, one fresh process per measurement ------------------------------------------------------------
def _rss(field):
    "VmRSS / VmHWM of this process in bytes (Linux)."
    return next(int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith(field))

def memory_child(kind, name, device, amp, threads) -> dict:
    "Peak memory of one `kind` step ('xe', 'dico' or 'dico-peer') after the optimiser state exists, and what came before."
    if threads: torch.set_num_threads(threads)
    transformers.logging.set_verbosity_error()
    s = dico_setup(name, device)
    policy = s.peer if kind == 'dico-peer' else s.policy
    opt = (torch.optim.AdamW if kind == 'xe' else torch.optim.Adam)([p for p in policy.parameters() if p.requires_grad], lr=1e-6)
    if kind == 'xe': del s.peer, s.peer_ref, s.ctx.reward, s.ctx.reference  # an XE run holds the captioner only
    elif kind == 'dico-peer': del s.policy, s.ctx.reference
    else: del s.peer, s.peer_ref
    gc.collect()
    xe_batch = dict(images=s.pixels, tokens=captions().to(device))
    def step():
        opt.zero_grad(set_to_none=True)
        with amp_ctx(device, amp):
            batch = dict(xe_batch, keys=fresh_keys())
            loss = (xe_step(policy, batch, s.ctx)[0] if kind == 'xe' else
                    peer_step(s, batch) if kind == 'dico-peer' else ours_step(policy, batch, s.ctx)[0])
        loss.backward(); opt.step()
    for p in opt.param_groups[0]['params']: p.grad = torch.zeros_like(p)
    opt.step()                                 # allocates the optimiser state (a zero-gradient step)
    cuda = torch.device(device).type == 'cuda'
    if cuda: torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats(); before = torch.cuda.memory_allocated()
    else:
        before = _rss('VmRSS')
        with open('/proc/self/clear_refs', 'w') as f: f.write('5')  # reset the peak-RSS mark (Linux >= 4.0)
    step()
    if cuda: torch.cuda.synchronize(); peak = torch.cuda.max_memory_allocated()
    else: peak = _rss('VmHWM')
    return dict(before=before, peak=peak, growth=peak - before)

def bench_memory(name, device, amp, threads) -> dict:
    "Memory of one DiCO step (ours and the peer's) and one XE step, each measured in a fresh process."
    os.environ['MALLOC_MMAP_THRESHOLD_'] = str(1 << 20)  # children: large buffers are mmapped, freed ones leave RSS
    out = {}
    for kind in ('xe', 'dico', 'dico-peer'):
        with mp.get_context('spawn').Pool(1) as pool: out[kind] = pool.apply(memory_child, (kind, name, device, amp, threads))
    return out

# --- the report ---------------------------------------------------------------------------------------------------
def rate(ts, items):
    "Median items/s and its range over repeats."
    m = statistics.median(ts)
    return f'{items / m:.3g} ({items / max(ts):.3g}-{items / min(ts):.3g})'

def ratio(slow, fast):
    "Median (min-max) of per-repeat ratios, and the median."
    r = [a / b for a, b in zip(slow, fast)]
    return f'**{statistics.median(r):.2f}x** ({min(r):.2f}-{max(r):.2f})', statistics.median(r)

def gflops_note(res, device, peak):
    "Useful work (our FLOPs) per step and the rate each side achieves with it; on GPU as % of peak."
    f = res.get('flops')
    if not f: return ''
    rates = {n: f / statistics.median(res['ts'][n]) / 1e9 for n in ('ours', 'peer')}
    txt = f"{f / 1e9:.1f} GFLOP/step; {rates['ours']:.0f} / {rates['peer']:.0f} GFLOP/s"
    if peak: txt += f" ({100 * rates['ours'] / 1e3 / peak:.1f}% / {100 * rates['peer'] / 1e3 / peak:.1f}% of {peak:.0f} TFLOP/s)"
    return txt

def phase_table(phases):
    "Markdown table of the DiCO phases: one column per size, 'ours / peer' seconds in each cell."
    names = list(next(iter(phases.values()))['ours'])
    head = '| phase | ' + ' | '.join(phases) + ' |\n|---|' + '---|' * len(phases) + '\n'
    return head + ''.join(f"| {n} | " + ' | '.join(f"{p['ours'][n]:.2f} / {p['peer'][n]:.2f}" for p in phases.values()) + ' |\n'
                          for n in names)

@call_parse
def main(quick:bool=False,       # smoke run: tiny sizes only, 2 repeats, small CIDEr corpus; prints, writes only with --out
         device:str='cpu',       # 'cpu' or 'cuda'
         amp:str='bf16',         # CUDA autocast: 'bf16', 'fp16' or 'none' (CPU: always fp32)
         repeats:int=0,          # timed calls per side (0: defaults, fewer at paper size)
         threads:int=1,          # torch threads (0: torch's default); 1: other jobs share the cores (see RESULTS.md)
         peak_tflops:float=0.,   # the GPU's peak TFLOP/s (0: from a table of known GPUs)
         dico_l14:bool=False,    # also DiCO with a ViT-L/14 trunk, ours on cached features (~20 min more here)
         out:str=None):          # result file (default bench/RESULTS.md; quick runs only print)
    "Run every benchmark and write the results table."
    if threads: torch.set_num_threads(threads)
    transformers.logging.set_verbosity_error()
    cuda = torch.device(device).type == 'cuda'
    peak = gpu_peak_tflops(peak_tflops) if cuda else 0.
    out = out or (None if quick else 'bench/RESULTS.md')
    # timed calls per side: many where a call is cheap, few where it takes tens of seconds on 2 loaded CPU cores
    n = dict(tiny=10, dico=3, beams=5, xe=5, xe_l14=2, cider=50) if not quick else dict(tiny=2, dico=1, beams=1, xe=1, xe_l14=1, cider=10)
    if cuda: n = {k: max(v, 10) for k, v in n.items()}
    if repeats: n = {k: repeats for k in n}
    sizes = ['tiny'] if quick else ['tiny', 'paper']
    trunk = {'tiny': 'tiny ViT', 'paper': 'ViT-B/32', 'paper-L14': 'ViT-L/14'}
    t_start, load0, rows, notes, phases = time.time(), os.getloadavg(), [], [], {}
    say = lambda *a, **kw: print(f'[{time.time() - t_start:5.0f}s]', *a, flush=True, **kw)
    def add(no, what, size, res, target, peer_name):
        ts = res['ts']; r, med = ratio(ts['peer'], ts['ours'])
        met = '' if target is None else f">= {target}x: {'met' if med >= target else '**missed**'}"
        rows.append(f"| {no} | {what} | {size} | {rate(ts['ours'], res['items'])} | {rate(ts['peer'], res['items'])} "
                    f"({peer_name}) | {r} | {met} | {gflops_note(res, device, peak)} |")
        say(rows[-1])

    for size in sizes + (['paper-L14'] if dico_l14 else []):
        res = bench_dico(size, n['tiny'] if size == 'tiny' else n['dico'], device, amp, cached=size == 'paper-L14')
        what = 'DiCO step, images/s' + (' (ours reads cached trunk features)' if size == 'paper-L14' else '')
        add(1, what, f'{size.replace("-L14", "")}, {trunk[size]} trunk', res, 3, 'transformers recipe')
        c = res['check']
        notes.append(f"DiCO {size}: loss {c['loss']:.4f}, |loss diff| {c['loss_diff']:.1e}, max |log-prob diff| {c['logp_diff']:.1e}, "
                     f"LM-head grad max rel. diff {c['grad_rel_diff']:.1e}, trunk features max diff {c['feats_diff']:.1e}; "
                     f"beam-search candidates identical on both sides: {c['same_beams']:.0%}")
        phases[size] = res['phases']
    for size in sizes:
        res = bench_beams(size, n['tiny'] if size == 'tiny' else n['beams'], device, amp)
        add(2, 'beam search (k=5, all returned), captions/s', size + (', 257 encoder tokens' if size == 'paper' else ', 17 encoder tokens'),
            res, 2, 'transformers `generate`')
        notes.append(f"beam search {size}: top beam identical for {res['check']['top1']:.0%} of images, all 5 for "
                     f"{res['check']['all']:.0%}, max |log-prob diff| {res['check'].get('logprob_diff', float('nan')):.1e}")
    for size in sizes + ([] if quick else ['paper-L14']):
        res = bench_xe(size, n['tiny'] if size == 'tiny' else n['xe_l14'] if size == 'paper-L14' else n['xe'], device, amp)
        add(3, 'XE step (fwd+bwd+AdamW), images/s, cached features', f'{size.replace("-L14", "")}, {trunk[size]} trunk',
            res, 5 if size == 'paper-L14' else None, 'trunk every step')
    for n_images in ([500] if quick else [500, 20_000]):
        res = bench_cider(n_images, n['cider'])
        res_warm = dict(res, ts=dict(ours=res['ts']['warm'], peer=res['ts']['peer']))
        size = f'{n_images} images x 5 refs'
        add(4, 'CIDEr-D, 40 candidates/call, references cooked in the call', size, res, 10, 'pycocoevalcap `CiderScorer`')
        add(4, 'CIDEr-D, 40 candidates/call, references cached', size, res_warm, 10, 'pycocoevalcap `CiderScorer`')
        notes.append(f"CIDEr-D {size}: values equal (max |diff| {res['check']['max_diff']:.1e}, mean {res['check']['mean']:.3f}); "
                     f"one-off IDF setup {res['check']['setup_s']['ours']:.1f} s ours, {res['check']['setup_s']['peer']:.1f} s pycocoevalcap")
    mem_rows = []
    for size in sizes:
        say(f'memory, {size}')
        m = bench_memory(size, device, amp, threads)
        mib = lambda b: f'{b / 2**20:.0f}'
        for kind, label in (('dico', 'DiCO step, ours'), ('dico-peer', 'DiCO step, transformers recipe'), ('xe', 'XE step, ours')):
            mem_rows.append(f"| {size} | {label} | {mib(m[kind]['before'])} | {mib(m[kind]['peak'])} | {mib(m[kind]['growth'])} | "
                            f"{m[kind]['peak'] / m['xe']['peak']:.2f}x | {m[kind]['growth'] / max(1, m['xe']['growth']):.2f}x |")
        say(*mem_rows[-3:], sep='\n')

    load1, minutes = os.getloadavg(), (time.time() - t_start) / 60
    what_mem = ('torch.cuda.max_memory_allocated after reset_peak_memory_stats' if cuda else
                'peak RSS (VmHWM from /proc/self/status, reset through /proc/self/clear_refs before the step), with '
                'MALLOC_MMAP_THRESHOLD_=1 MiB so freed buffers leave RSS')
    report = f"""# dico_nb benchmarks

`python bench/run_all.py{' --quick' if quick else ''}{f' --device {device}' if cuda else ''}` — {time.strftime('%Y-%m-%d %H:%M')}, {minutes:.1f} min.

Machine: {machine(device)}. Load average (1/5/15 min) {'/'.join(f'{x:.1f}' for x in load0)} at the start,
{'/'.join(f'{x:.1f}' for x in load1)} at the end (other jobs shared the cores; repeats are interleaved A B, B A, ... so
that load hits both sides alike). Random weights throughout. {'fp32 on CPU.' if not cuda else f'autocast {amp}.'}
{'' if cuda else '''One torch thread per process (`--threads 1`, the default): with 2 OpenMP threads on 2 cores that other jobs also
use, every small op waits for a descheduled thread and costs milliseconds, which penalises whichever side runs more
small ops and turns ratios into measurements of contention (see the correction in `bench_decoding.md`).
'''}Throughputs: median (slowest-fastest) of the repeats; ratio = median (min-max) of the per-repeat ratios of peer time
to ours. "work": FLOPs of our step (the useful work), divided by each side's median time.

| # | measurement | size | ours | peer | ours faster by | target | work: our FLOPs per step; achieved by ours / peer |
|---|---|---|---|---|---|---|---|
""" + '\n'.join(rows) + f"""

Peak memory of one training step (forward, backward and optimiser step, after a zero-gradient optimiser step has
allocated the optimiser state), each in a fresh process, measured as {what_mem}. "before" = what the process held
before the step (imports, weights, optimiser state, reward model); batch 8 images; the XE step teacher-forces one caption per image (the reference's XE layout), the DiCO step 8 x 5
candidates. Ratios are against the XE step.

| size | step | before (MiB) | peak (MiB) | growth during the step (MiB) | peak vs XE | growth vs XE |
|---|---|---|---|---|---|---|
""" + '\n'.join(mem_rows) + """

Where a DiCO step's time goes (median seconds per phase over the timed repeats, ours / transformers recipe):

""" + phase_table(phases) + """
Checks done before timing:

""" + ''.join(f'- {n}\n' for n in notes) + f"""
Setups. DiCO: batch {B}, {K} beams, max length {MAX_LEN} (BOS included), length penalty 0 on both sides, eval mode (no
dropout) for policy and reference alike; the reward is PAC-S's formula (w = 2) with the same `Scorer` object on both
sides (a ViT-B/32 CLIP at paper size), image features recomputed every step (fresh keys, as within a COCO epoch).
Ours is timed phase by phase with `dico_nb.train` functions (asserted equal to `dico_step` at tiny size). The peer follows the
reference implementation (aimagelab/DiCO `DiCOTrainer`): trunk once per step, `generate` + `compute_transition_scores`,
encoder re-run and its output repeated per candidate for the policy and reference forwards, `log_softmax` + `gather`;
it uses transformers' stock `generate` (no autograd), kinder to it than the reference's `generate_with_backpropagation`.
Paper-size captioner: encoder and decoder 3 x 512 (8 heads, FFN 2048), vocabulary 49409, full LM head. With
`--dico_l14` (not in the default run: ~20 more minutes here) a DiCO row with a ViT-L/14 trunk (257 tokens) is
added where ours reads the features from a `FeatureCache` (fp16 on disk, the project's `--features` option) and the
reference recomputes the trunk every step as it must. Beam search decodes from
one precomputed encoder output (tiny: 17 tokens; paper: 257 tokens, ViT-L/14's). XE: batch 8, one caption of 10-19
tokens per image, AdamW; the trunk column runs the open_clip trunk (random weights) every step. CIDEr-D: synthetic
corpus (`bench_cider.py`), 8 images x 5 candidates; peer = pycocoevalcap 1.2's `CiderScorer` scoring just those 40
pairs with the corpus document frequencies computed once (its fastest honest use); "cooked in the call" = our
reference cache emptied before every call. FLOPs are counted with `torch.utils.flop_counter.FlopCounterMode` on
our step (matmuls and convolutions; on CPU it does not see scaled-dot-product attention, a few % at these sizes).

GPU: `--device cuda` (autocast `--amp bf16|fp16`, `torch.cuda.synchronize` around every timing,
`torch.cuda.max_memory_allocated` for memory, FLOP/s as a fraction of the GPU's peak) is written but has not been
run: there was no GPU here.
"""
    print(report)
    if out: Path(out).write_text(report); say(f'wrote {out}')
