"""The policy's teacher-forced pass of a DiCO step with its loss and backward, three ways that compute the same numbers:
- 'ours': `Captioner.seq_loss`, the LM head chunked (`HEAD_CHUNK` target positions rounded up to whole images) with
  its gradient formed in the forward pass (`head_loss`: the backward only scales it);
- 'full': all logits at once (`chunk=0`: `seq_logprobs` on the materialised logits, autograd's backward);
- 'recompute': `seq_logprobs` chunked (`token_logprobs`, which recomputes each chunk's logits in its backward),
  then `dico_loss`.
Batch 8 images x 5 candidates (`common.captions`: 9-28 words + EOS), the decoder reading a fixed encoder output
(the encoder's share is the same on every side and is left out), DiCO's loss on fixed reference log-probs and rewards.
Paper size: decoder 3 x 512, vocabulary 49409, 257 encoder tokens (ViT-L/14's)."""
import multiprocessing as mp, os
import torch
from common import interleaved, count_flops, amp_ctx, captions
from dico_nb.model import Captioner, CaptionerConfig, tiny_config
from dico_nb.losses import dico_loss

B, K = 8, 5
SIZES = {'tiny': (tiny_config(trunk=None), 17), 'paper': (CaptionerConfig(trunk=None, trunk_pretrained=None, trunk_width=1024, dropout=0.), 257)}
VARIANTS = ('ours', 'full', 'recompute')

def head_setup(size, device='cpu'):
    "The policy (eval mode), its encoder output `[B, S, D]`, candidates `[B*K, 30]`, and a DiCO loss split by image."
    cfg, S = SIZES[size]
    torch.manual_seed(0)
    policy = Captioner(cfg, load_trunk=False).to(device).eval()
    with torch.no_grad(): memory = policy.encode(feats=torch.randn(B, S, policy.cfg.trunk_width, device=device))
    tokens = captions(B * K, 30).to(device)                                      # up to 29 targets each
    g = torch.Generator().manual_seed(1)
    with torch.no_grad(): s0 = policy.seq_logprobs(tokens, memory=memory).view(B, K)
    s_ref = s0 + torch.randn(B, K, generator=g).to(device)                       # a reference model near the policy
    rewards = torch.rand(B, K, generator=g).to(device)
    share = lambda s, i: dico_loss(s, s_ref[i], rewards[i], 0.2, 300.)[0] * len(i) / B   # images i's share of the batch mean
    return policy, memory, tokens, share, s_ref, rewards

def variants(policy, memory, tokens, share, s_ref, rewards, device='cpu', amp='none') -> dict:
    "The three ways, each a call that runs forward and backward and returns the loss."
    def ours(chunk=None):
        def call():
            policy.zero_grad(set_to_none=True)
            with amp_ctx(device, amp): loss, _ = policy.seq_loss(tokens, share, K, memory=memory, chunk=chunk)
            loss.backward(); return loss
        return call
    def recompute():
        policy.zero_grad(set_to_none=True)
        with amp_ctx(device, amp):
            s = policy.seq_logprobs(tokens, memory=memory).view(B, K)               # `token_logprobs`, HEAD_CHUNK
            loss = dico_loss(s, s_ref, rewards, 0.2, 300.)[0]
        loss.backward(); return loss
    return dict(ours=ours(), full=ours(0), recompute=recompute)

def bench_head(size, repeats, device='cpu', amp='none') -> dict:
    "Seconds per policy pass + DiCO loss + backward, the three ways, after checking that they agree."
    policy, *rest = head_setup(size, device)
    fns = variants(policy, *rest, device=device, amp=amp)
    check, grads = {}, {}
    for n, f in fns.items():                                                     # also the warm-up
        check[f'loss_{n}'] = f().item(); grads[n] = policy.decoder.tok.weight.grad.clone()
    rel = lambda a, b: ((a - b).abs().max() / b.abs().max()).item()
    check.update(grad_rel_diff_ours=rel(grads['ours'], grads['full']), grad_rel_diff_recompute=rel(grads['recompute'], grads['full']))
    assert max(check['grad_rel_diff_ours'], check['grad_rel_diff_recompute']) < (1e-4 if amp == 'none' else 5e-2), check
    return dict(flops=count_flops(fns['full']), ts=interleaved(fns, repeats, device, warmup=0), check=check, items=B)

def _rss(field):
    "VmRSS / VmHWM of this process in bytes (Linux)."
    return next(int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith(field))

def head_memory_child(variant, size, threads) -> dict:
    "Bytes held before one call of `variant` (model, encoder output, candidates), at its peak, and the growth (peak RSS, CPU)."
    if threads: torch.set_num_threads(threads)
    fns = variants(*head_setup(size))
    fns[variant]()                                                               # a first call: gradient buffers exist
    before = _rss('VmRSS')
    with open('/proc/self/clear_refs', 'w') as f: f.write('5')                   # reset the peak-RSS mark
    fns[variant]()
    peak = _rss('VmHWM')
    return dict(before=before, peak=peak, growth=peak - before)

def head_memory(size, threads=1) -> dict:
    "Peak-RSS growth of one call of each variant, each in a fresh process (CPU)."
    os.environ['MALLOC_MMAP_THRESHOLD_'] = str(1 << 20)                          # freed large buffers leave RSS
    out = {}
    for v in VARIANTS:
        with mp.get_context('spawn').Pool(1) as pool: out[v] = pool.apply(head_memory_child, (v, size, threads))
    return out

if __name__ == '__main__':
    import statistics, sys
    size = sys.argv[1] if len(sys.argv) > 1 else 'tiny'
    torch.set_num_threads(1)
    r = bench_head(size, 2)
    print(r['check'], {n: round(statistics.median(t), 3) for n, t in r['ts'].items()}, f"{r['flops'] / 1e9:.1f} GFLOP")
    print({v: {k: round(x / 2**20) for k, x in m.items()} for v, m in head_memory(size).items()}, 'MiB')
