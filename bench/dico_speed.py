"""A DiCO step: the package's `dico_nb.train.dico_step` (timed phase by phase through its `mark` hook) against the
reference implementation's recipe on HF transformers with the same weights.

Two recipes (`RECIPES`):
- 'paper' (the headline): the paper's configuration (ViT-L/14 trunk, PAC-S's ViT-B/32 CLIP as the reward, k = 5,
  max length 30, batch 8, length penalty 1). Ours runs it as dico_nb's README tells a COCO user: trunk features read
  from a `FeatureCache` (fp16, `--features`), the reward's image features served by key from the `Scorer`'s cache,
  reward text trimmed to the longest candidate. A second "ours" (`ours_fresh`) is timed in the same interleaving
  with fresh keys, so the reward's image tower runs every step, and a third (`ours_full`) with `HEAD_CHUNK = 0`
  (all logits at once, the sequence log-probs as computed before chunking). The peer runs it as aimagelab/DiCO's `DiCOTrainer`
  does: the trunk every step (`vision_encoder_forward`), beam search with autograd recording
  (`generate_with_backpropagation`: stock `generate` without its `no_grad`) + the transition scores, whose graph
  lives until the step ends, the reward's image tower every step and the candidates padded to 77 tokens, then the
  policy's and the reference model's teacher-forced GPT-2 passes on the encoder output repeated per candidate
  (EOS dropped from the inputs, `log_softmax` + `gather`).
- 'kind': the kind peer of earlier runs (ViT-B/32 trunk that both sides run every step, stock `generate` without
  autograd, length penalty 0, max length 20, the same `Scorer` on both sides with fresh keys).

Policy and reference are different weights (else the loss is log 2 whatever the log-probs); both models in eval
mode. Before anything is timed both sides must give the same loss and the same LM-head gradient on the same
candidates, and the peer's beam search must return the candidates ours returned.
"""
import dataclasses, tempfile
from types import SimpleNamespace as NS
import torch, torch.nn.functional as F
from common import (Reference, reference_checkpoint, interleaved, Phases, amp_ctx, images, fresh_keys,
                    TINY, TINY_VIT, PAPER, VIT_B32, VIT_L14)
from dico_nb.tokens import BOS_ID, EOS_ID, PAD_ID
import dico_nb.logprobs
from dico_nb.convert import load_captioner
from dico_nb.losses import dico_loss
from dico_nb.reward import Scorer, make_clip, ids_tokens, fit_images, ClipReward
from dico_nb.shapes_clip import shapes_clip_arch
from dico_nb.features import cache_features, FeatureCache
from dico_nb.train import dico_step, policy_logprobs, reference_logprobs, make_reference, make_config, StepContext, DiCO

B, K = 8, 5  # images per step, beams (all returned)
TINY_REWARD = shapes_clip_arch(image_size=32, patch=8, width=32, layers=2, text_width=32, text_layers=2, embed_dim=32)
# (trunk of the captioner, sizes of encoder/decoder, reward CLIP): PAC-S's default is a ViT-B/32 CLIP
SETUPS = {'tiny': (TINY_VIT, TINY, TINY_REWARD), 'paper-B32': (VIT_B32, PAPER, 'ViT-B-32-quickgelu'),
          'paper-L14': (VIT_L14, PAPER, 'ViT-B-32-quickgelu')}
RECIPES = {'paper': dict(max_len=30, length_penalty=1., cached=True, record=True, text77=True, prefix=''),
           'kind': dict(max_len=20, length_penalty=0., cached=False, record=False, text77=False, prefix='A photo depicts')}
KEYS = [f'{i}__img{i}' for i in range(B)]  # the batch's keys where ours reads caches

def dico_setup(size, recipe='kind', device='cpu'):
    "Policy and reference on both sides (same weights), the reward, the images, and the package step's context."
    vision, sizes, reward = SETUPS[size]
    r = NS(**RECIPES[recipe])
    with tempfile.TemporaryDirectory() as d0, tempfile.TemporaryDirectory() as d1:
        stub = dict(vision, num_hidden_layers=1)  # the reference model never runs a trunk: it gets the policy's features
        peer_ref = reference_checkpoint(d0, stub, sizes, seed=0).without_trunk()      # pi_ref (the XE model)
        ours_ref = make_reference(load_captioner(d0))
        peer = reference_checkpoint(d1, vision, sizes, seed=1)                          # pi_theta, other weights
        peer.vis.requires_grad_(False)                                                  # the frozen trunk, as ours
        policy = load_captioner(d1)
    torch.manual_seed(2)
    scorer = Scorer(make_clip(reward).to(device), w=2.0, prefix=r.prefix)  # PAC-S's w
    cfg = make_config(method=DiCO(beta=0.2, tau=300., policy_mode='eval'), k=K, max_len=r.max_len, length_penalty=r.length_penalty)
    ctx = StepContext(cfg, torch.device(device), reference=ours_ref.to(device), reward=ClipReward(scorer))
    s = NS(policy=policy.to(device), peer=peer.to(device), peer_ref=peer_ref.to(device), ctx=ctx, recipe=r,
           pixels=images(vision['image_size']).to(device), scorer=scorer, tmp=None)
    if r.cached:  # trunk features written once by the package's `cache_features`, read back every step
        s.tmp = tempfile.TemporaryDirectory()
        cache_features(policy.trunk, [dict(keys=KEYS, images=s.pixels)], s.tmp.name)
        cache = FeatureCache(s.tmp.name)
        ctx.features = lambda keys: cache(KEYS)
    return s

# --- the peer: the reference implementation's recipe ------------------------------------------------------------
def peer_beams(s, feats):
    "The reference's `compute_beam_search`: `generate` (recording autograd or not) + transition scores; `[B*k, L]`, scores."
    r, peer = s.recipe, s.peer
    out = peer.generate(peer.encode(feats), K, r.max_len, length_penalty=r.length_penalty, record=r.record)
    logp = peer.gpt.compute_transition_scores(out.sequences, out.scores, out.beam_indices)  # [B*k, L-1], kept as it keeps it
    tokens = out.sequences.detach()
    if r.record: tokens = F.pad(tokens, (0, r.max_len - tokens.shape[1]), value=PAD_ID)    # `_pad_tensors_to_max_len`
    return tokens, logp

@torch.no_grad()
def peer_reward(s, pixels, tokens):
    "PAC-S as the reference's `compute_clip_score`: image tower every step, candidates 0-padded to the full context (77)."
    model = s.scorer.model
    img = F.normalize(model.encode_image(fit_images(s.scorer, pixels)).float(), dim=-1).repeat_interleave(K, 0)  # [B*k, D]
    context = model.positional_embedding.shape[0]                                     # 77 (PAC-S's CLIP)
    txt = ids_tokens(tokens.cpu(), s.recipe.prefix, context)
    txt = F.pad(txt, (0, context - txt.shape[1])).to(pixels.device)                   # [B*k, 77]
    txt = F.normalize(model.encode_text(txt).float(), dim=-1)
    return (2.0 * (img * txt).sum(-1)).clamp(min=0)                                   # [B*k]

def peer_logprobs(model:Reference, tokens, feats):
    "The reference's `compute_dico_logps`: GPT-2 on the candidates, EOS dropped from the inputs, log_softmax+gather."
    memory = model.encode(feats).repeat_interleave(K, 0)                          # [B*k, S, D], a copy per candidate
    inputs = tokens.masked_fill(tokens == EOS_ID, PAD_ID)                         # [B*k, L]
    logits = model.gpt(input_ids=inputs, encoder_hidden_states=memory).logits     # [B*k, L, V]
    labels = tokens[:, 1:]                                                         # [B*k, L-1]: BOS dropped
    logp = logits.log_softmax(-1).gather(2, labels[..., None])[..., 0]            # [B*k, L-1] (first L-1 positions)
    return (logp * (labels != PAD_ID)).sum(-1)                                     # [B*k]: EOS in, padding out

def peer_loss(s, feats, tokens, rewards, mark=None):
    "Policy (grad) and reference (no grad) log-probs through the HF models, then the same DiCO loss."
    s_policy = peer_logprobs(s.peer, tokens, feats).view(B, K)
    if mark: mark('policy forward')
    with torch.no_grad(): s_ref = peer_logprobs(s.peer_ref, tokens, feats).view(B, K)
    if mark: mark('reference forward')
    return dico_loss(s_policy, s_ref, rewards, s.ctx.method.beta, s.ctx.method.tau)[0], s_policy, s_ref

def peer_step(s, batch, mark=None):
    "One DiCO step the reference's way; returns the loss."
    with torch.no_grad(): feats = s.peer.trunk(batch['images'])                # [B, S, W], every step
    if mark: mark('trunk')
    tokens, beam_logp = peer_beams(s, feats)                                     # its graph (when recorded) lives on
    if mark: mark('beam search')
    if s.recipe.text77: rewards = peer_reward(s, batch['images'], tokens).view(B, K)
    else: rewards = s.ctx.reward(batch, tokens).view(B, K)                      # the kind peer: our `Scorer`
    if mark: mark('reward')
    loss = peer_loss(s, feats, tokens, rewards, mark)[0]
    del beam_logp                                                                # thrown away at the end of the step
    return loss

# --- same loss, same candidates ---------------------------------------------------------------------------------
def check_dico(s) -> dict:
    "The package's step and the peer on the same features, candidates and rewards: same loss, gradient and beams."
    from torch.utils.flop_counter import FlopCounterMode
    keys = KEYS if s.recipe.cached else fresh_keys()
    batch = dict(images=s.pixels, keys=keys)
    with torch.no_grad(), FlopCounterMode(display=False) as fc_trunk: feats_trunk = s.policy.trunk(s.pixels)  # [B, S, W]
    with torch.no_grad(): feats_peer = s.peer.trunk(s.pixels)
    feats = s.ctx.features(keys).float() if s.ctx.features else feats_trunk     # what our step reads (fp32, as `trunk_features` gives it)
    seen = {}
    def reward(batch, tokens):
        seen['tokens'] = tokens; seen['rewards'] = s.ctx.reward(batch, tokens); return seen['rewards']
    ctx = dataclasses.replace(s.ctx, features=lambda keys: feats, reward=reward)
    if s.recipe.cached:                         # the timed step finds the reward's image features cached: so does the count
        with torch.no_grad(): s.ctx.reward(batch, torch.tensor([[BOS_ID, EOS_ID]]).repeat(B * K, 1))
    flops_at = {}                               # FLOPs counted when each phase ends
    with FlopCounterMode(display=False) as fc:  # the work of one step of ours (also warms ours up)
        mark = lambda phase: flops_at.__setitem__(phase, fc.get_total_flops())
        loss, _ = dico_step(s.policy, batch, ctx, mark=mark)
        s.policy.zero_grad(); loss.backward(); g = s.policy.decoder.tok.weight.grad    # [V, D], tied LM head
        mark('loss + backward')
    ends = list(flops_at.values())
    phase_flops = {p: f - ([0] + ends)[i] for i, (p, f) in enumerate(flops_at.items())}   # each phase's own
    tokens, rewards = seen['tokens'], seen['rewards'].view(B, K)
    with torch.no_grad():
        sp = policy_logprobs(s.policy, tokens, feats, ctx).view(B, K); sr = reference_logprobs(ctx.reference, tokens, feats).view(B, K)
    torch.testing.assert_close(feats_peer, feats_trunk, rtol=1e-3, atol=1e-3)  # same trunk weights, two implementations
    tokens_p, _ = peer_beams(s, feats)
    L = max(tokens.shape[1], tokens_p.shape[1])
    pad = lambda t: F.pad(t, (0, L - t.shape[1]), value=PAD_ID)                # [B*k, L]
    loss_p, sp_p, sr_p = peer_loss(s, feats, pad(tokens), rewards)             # same features, candidates and rewards
    s.peer.zero_grad(); loss_p.backward(); g_p = s.peer.gpt.transformer.wte.weight.grad
    out = dict(loss=loss.item(), loss_diff=(loss - loss_p).abs().item(), feats_diff=(feats_trunk - feats_peer).abs().max().item(),
               logp_diff=max((sp - sp_p).abs().max().item(), (sr - sr_p).abs().max().item()),
               grad_rel_diff=((g - g_p).abs().max() / g.abs().max()).item(),
               same_beams=(pad(tokens) == pad(tokens_p)).all(-1).float().mean().item(),
               ended=(tokens == EOS_ID).any(-1).float().mean().item(), length=tokens.shape[1],
               flops=fc.get_total_flops(), trunk_flops=fc_trunk.get_total_flops(), phase_flops=phase_flops)
    if s.recipe.text77: out['reward_diff'] = (peer_reward(s, s.pixels, tokens) - rewards.flatten()).abs().max().item()
    torch.testing.assert_close(loss_p, loss, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(sp_p, sp, rtol=1e-4, atol=2e-3); torch.testing.assert_close(sr_p, sr, rtol=1e-4, atol=2e-3)
    assert out['grad_rel_diff'] < 1e-3 and out['same_beams'] == 1. and out.get('reward_diff', 0) < 1e-4, out
    s.policy.zero_grad(set_to_none=True); s.peer.zero_grad(set_to_none=True)
    return out

def bench_dico(size, recipe, repeats, device='cpu', amp='none') -> dict:
    "Seconds per DiCO step, the package's against the peer (and, in the paper recipe, ours with fresh reward keys)."
    s = dico_setup(size, recipe, device)
    check = check_dico(s)  # fp32, before anything is timed; it warms both sides up
    ph = dict(ours=Phases(device), peer=Phases(device), ours_fresh=Phases(device), ours_full=Phases(device))
    def ours(name, keys, chunk=None):
        def call():
            s.policy.zero_grad(set_to_none=True)
            saved = dico_nb.logprobs.HEAD_CHUNK
            if chunk is not None: dico_nb.logprobs.HEAD_CHUNK = chunk
            try:
                with amp_ctx(device, amp): loss = dico_step(s.policy, dict(images=s.pixels, keys=keys()), s.ctx, mark=ph[name])[0]
                loss.backward(); ph[name]('loss + backward')
            finally: dico_nb.logprobs.HEAD_CHUNK = saved
        return call
    def peer():
        s.peer.zero_grad(set_to_none=True)
        with amp_ctx(device, amp): loss = peer_step(s, dict(images=s.pixels, keys=fresh_keys()), ph['peer'])
        loss.backward(); ph['peer']('loss + backward')
    fns = dict(ours=ours('ours', (lambda: KEYS) if s.recipe.cached else fresh_keys), peer=peer)
    if s.recipe.cached:  # the same step with the reward's images encoded every step, and with all logits at once (as before chunking)
        fns.update(ours_fresh=ours('ours_fresh', fresh_keys), ours_full=ours('ours_full', lambda: KEYS, chunk=0))
    ts = interleaved(fns, repeats, device, warmup=0, phases={n: ph[n] for n in fns})
    flops = check['flops'] + (0 if s.recipe.cached else check['trunk_flops'])  # the work our timed step does
    return dict(ts=ts, flops=flops, check=check, phases={n: ph[n].medians() for n in fns}, items=B)
