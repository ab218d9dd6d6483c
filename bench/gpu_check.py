#!/usr/bin/env python
"""The GPU check (`bench/gpu_check.sh`): what only a GPU can tell, in one run sized for ~8 minutes on one H200.

1. CUDA paths: a DiCO step of the package under bf16 and fp16 autocast (fp16 with a `GradScaler`, as `train` runs
   it), against fp32 on the same candidates: loss, sequence log-probs (`token_logprobs` under autocast) and the
   reward's scores (`Scorer`, fp16 autocast on CUDA) close to fp32's, every gradient finite.
2. The paper's DiCO step against the aimagelab/DiCO recipe (`dico_speed.bench_dico`), with its phase breakdown.
3. Beam search at paper size (len 30, length penalty 1) against transformers' `generate`, eager and compiled.
4. Peak memory of a DiCO step against an XE step (`memory.bench_memory`, `max_memory_allocated`).
5. The decoder passes' achieved FLOP/s (FlopCounterMode's count over the measured time) as a share of the GPU's bf16 peak.
`--dry-run` runs the same code on the CPU at tiny sizes (CPU autocast bf16 stands in for CUDA's; fp16 and loss
scaling are skipped there), so that the test suite keeps it working without a GPU.
"""
import json, os, statistics, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import interleaved, count_flops, gpu_peak_tflops, machine, fresh_keys  # sets HF_HUB_OFFLINE=1
import torch, transformers
from fastcore.script import call_parse
from dico_speed import dico_setup, bench_dico, KEYS, B, K
from beams_speed import bench_beams
from memory import bench_memory
from dico_nb.train import dico_step, policy_logprobs
from dico_nb.reward import fit_images

def autocast(device, amp):
    "Autocast for `amp` on `device` ('none': fp32)."
    if amp == 'none': return torch.autocast(device, enabled=False)
    return torch.autocast(device, dtype=torch.bfloat16 if amp == 'bf16' else torch.float16)

def cuda_paths(size, recipe, device, amps) -> dict:
    """Per autocast dtype, on the fp32 step's candidates: log-probs (policy and reference), rewards and DiCO loss
    against fp32's; then a whole `dico_step` under autocast, fp16 through a `GradScaler`: finite loss and gradients."""
    from dico_nb.losses import dico_loss
    from dico_nb.train import reference_logprobs
    s = dico_setup(size, recipe, device)
    keys = KEYS if s.recipe.cached else fresh_keys()
    batch = dict(images=s.pixels, keys=keys)
    seen = {}
    def reward(b, tokens): seen['tokens'] = tokens; return s.ctx.reward(b, tokens)
    dico_step(s.policy, batch, type(s.ctx)(**{**vars(s.ctx), 'reward': reward}))    # fp32, for its candidates
    tokens = seen['tokens']
    feats = s.ctx.features(keys).float() if s.ctx.features else s.policy.trunk(s.pixels)
    img = fit_images(s.scorer, s.pixels)
    def pieces():
        sp = policy_logprobs(s.policy, tokens, feats, s.ctx).view(B, K)        # token_logprobs under autocast
        sr = reference_logprobs(s.ctx.reference, tokens, feats).view(B, K)
        r = s.scorer(img, tokens)['score']                                       # [B, k]
        return sp, sr, r, dico_loss(sp, sr, r, s.ctx.method.beta, s.ctx.method.tau)[0]
    sp32, sr32, r32, loss32 = pieces()
    opt = torch.optim.Adam([p for p in s.policy.parameters() if p.requires_grad], lr=0.)
    out = {}
    for amp in amps:
        with autocast(device, amp): sp, sr, r, loss = pieces()
        rel = lambda a, b: ((a.float() - b).abs() / b.abs().clamp(min=1e-6)).max().item()
        scaler = torch.amp.GradScaler(device, enabled=amp == 'fp16' and device == 'cuda')
        opt.zero_grad(set_to_none=True)
        with autocast(device, amp): step_loss, _ = dico_step(s.policy, batch, s.ctx)   # the whole step under autocast
        scaler.scale(step_loss).backward(); scaler.unscale_(opt)
        grads = [p.grad for p in s.policy.parameters() if p.grad is not None]
        scaler.step(opt); scaler.update()
        out[amp] = dict(logp_dtype=str(sp.dtype), policy_logp_max_rel_diff=rel(sp, sp32.detach()), reference_logp_max_rel_diff=rel(sr, sr32),
                        reward_max_diff=(r.float() - r32).abs().max().item(), loss=loss.item(), loss32=loss32.item(),
                        loss_rel_diff=abs(loss.item() - loss32.item()) / abs(loss32.item()), step_loss=step_loss.item(),
                        grads_finite=all(torch.isfinite(g).all().item() for g in grads), n_grads=len(grads),
                        loss_scale=scaler.get_scale() if scaler.is_enabled() else None)
    return out

def decoder_flops_share(size, recipe, device, amp, repeats, peak) -> dict:
    "FLOP/s of the decoder passes of a DiCO step (beam search; policy forward+backward; reference forward), and their share of `peak`."
    from dico_nb.decoding import beam_search
    from dico_nb.train import reference_logprobs
    s = dico_setup(size, recipe, device)
    feats = s.ctx.features(KEYS).float() if s.ctx.features else s.policy.trunk(s.pixels)
    with torch.no_grad(): memory = s.policy.encode(feats=feats)
    cfg = s.ctx.cfg
    with autocast(device, amp): tokens = beam_search(s.policy, memory, K, cfg.max_len, cfg.length_penalty).tokens.flatten(0, 1)
    def beams():
        with autocast(device, amp): beam_search(s.policy, memory, K, cfg.max_len, cfg.length_penalty)
    def policy():
        s.policy.zero_grad(set_to_none=True)
        with autocast(device, amp): lp = policy_logprobs(s.policy, tokens, feats, s.ctx)
        lp.sum().backward()
    def reference():
        with autocast(device, amp): reference_logprobs(s.ctx.reference, tokens, feats)
    out = {}
    for name, f in dict(beam_search=beams, policy_fwd_bwd=policy, reference_fwd=reference).items():
        flops = count_flops(f)
        t = statistics.median(interleaved({name: f}, repeats, device)[name])
        out[name] = dict(gflop=flops / 1e9, seconds=t, tflops=flops / t / 1e12,
                         share_of_peak=(flops / t / 1e12 / peak) if peak else None)
    return out

@call_parse
def main(dry_run:bool=False,  # CPU, tiny sizes, one repeat: keeps the script working where there is no GPU
         amp:str='bf16',      # autocast of the timed runs ('bf16' or 'fp16')
         repeats:int=5,       # timed calls per side
         out:str=''):         # results as JSON ('' : $OUT/gpu_check.json when $OUT is set, else printed only)
    "Run the GPU check; print a summary and write the figures as JSON."
    transformers.logging.set_verbosity_error()
    t0 = time.time()
    say = lambda *a: print(f'[{time.time() - t0:5.0f}s]', *a, flush=True)
    if dry_run: device, size, recipe, repeats, amps, amp_t, peak = 'cpu', 'tiny', 'paper', 1, ('bf16',), 'none', 0.
    else:
        assert torch.cuda.is_available(), 'no CUDA device: run with --dry-run to check the script on a CPU'
        device, size, recipe, amps, amp_t = 'cuda', 'paper-L14', 'paper', ('bf16', 'fp16'), amp
        peak = gpu_peak_tflops()
    res = dict(machine=machine(device), peak_tflops=peak, dry_run=dry_run, size=size, recipe=recipe, amp=amp_t)
    say('1. CUDA paths'); res['cuda_paths'] = cuda_paths(size, recipe, device, amps); say(json.dumps(res['cuda_paths']))
    for amp_, r in res['cuda_paths'].items():
        assert r['grads_finite'] and r['loss_rel_diff'] < 0.05 and r['reward_max_diff'] < 0.05, (amp_, r)
    say('2. DiCO step vs the aimagelab/DiCO recipe')
    d = bench_dico(size, recipe, repeats, device, amp_t)
    med = lambda ts: statistics.median(ts)
    res['dico'] = dict(seconds={n: med(t) for n, t in d['ts'].items()}, ratio=med([p / o for p, o in zip(d['ts']['peer'], d['ts']['ours'])]),
                       phases=d['phases'], check=d['check'])
    say(f"DiCO step: ours {res['dico']['seconds']['ours']:.3f} s, peer {res['dico']['seconds']['peer']:.3f} s, {res['dico']['ratio']:.2f}x")
    say('3. beam search vs generate')
    res['beams'] = {}
    for name, kw in (('eager', {}), ('compiled', dict(compiled=True))):
        if dry_run and kw: kw = dict(compiled='eager')  # inductor on a CPU takes minutes to compile
        b = bench_beams('tiny' if dry_run else 'paper', repeats, device, amp_t, 30, 1., **kw)
        res['beams'][name] = dict(captions_per_s={n: b['items'] / med(t) for n, t in b['ts'].items()},
                                  ratio=med([p / o for p, o in zip(b['ts']['peer'], b['ts']['ours'])]), check=b['check'])
        say(name, json.dumps(res['beams'][name]))
    say('4. peak memory')
    m = bench_memory(size, recipe, device, amp_t, 0 if not dry_run else 1, kinds=('xe', 'dico') if dry_run else ('xe', 'dico', 'dico-full', 'dico-peer'))
    res['memory'] = {k: dict(v, growth_vs_xe=v['growth'] / max(1, m['xe']['growth'])) for k, v in m.items()}
    say(json.dumps({k: round(v['growth_vs_xe'], 2) for k, v in res['memory'].items()}))
    say('5. decoder FLOP/s')
    res['decoder_flops'] = decoder_flops_share(size, recipe, device, amp_t, repeats, peak)
    say(json.dumps(res['decoder_flops']))
    res['minutes'] = (time.time() - t0) / 60
    out = out or (str(Path(os.environ['OUT'])/'gpu_check.json') if os.environ.get('OUT') else '')
    if out: Path(out).write_text(json.dumps(res, indent=1, default=str)); say(f'wrote {out}')
    say(f"done in {res['minutes']:.1f} min")
