"""Lab 4 — realistic wrong answers, each swapped into a copy of solution.py; every one must fail its task's tests.

Format: see CONTRACT.md ("Wrong-answer catalogue"). `block` counts the task's
`# BEGIN SOLUTION(taskX_Y)` blocks in solution.py from 1.
"""

WRONG_ANSWERS = [
    # ----------------------------------------------------------------- task4_4 (block 1: random_crop_flip)
    {
        "task": "task4_4",
        "block": 1,
        "name": "per-image Python loop",
        "why": "correct pixels, but one slice per image: the lesson is batched augmentation (issue 14)",
        "expect": "loops over the images",
        "body": '''
            n, c, h, w = images.shape
            draws = random_offsets_and_flips(n, padding, generator, images.device)
            mirror = draws[2].bool() if flip is None else flip
            padded = F.pad(images, (padding,) * 4, mode=padding_mode) if padding else images
            out = torch.empty_like(images)
            for i in range(n):
                dy, dx = draws[0, i], draws[1, i]
                crop = padded[i, :, dy : dy + h, dx : dx + w]
                out[i] = crop.flip(-1) if mirror[i] else crop
            return out
        ''',
    },
    {
        "task": "task4_4",
        "block": 1,
        "name": "three separate draws, three blocking copies",
        "why": "draws dy, dx and the coins one by one and moves each to the device: three copies per batch "
        "(issue 16 #5), and not the random numbers random_offsets_and_flips gives",
        "body": '''
            n, c, h, w = images.shape
            device = images.device
            gen_device = generator.device if generator is not None else device
            dy = torch.randint(0, 2 * padding + 1, (n,), generator=generator, device=gen_device).to(device)
            dx = torch.randint(0, 2 * padding + 1, (n,), generator=generator, device=gen_device).to(device)
            coins = (torch.rand(n, generator=generator, device=gen_device) < 0.5).to(device)
            flip = coins if flip is None else flip.to(device)
            padded = F.pad(images, (padding,) * 4, mode=padding_mode) if padding else images
            rows = dy[:, None] + torch.arange(h, device=device)
            cols = dx[:, None] + torch.arange(w, device=device)
            cols = torch.where(flip[:, None], cols.flip(1), cols)
            positions = (rows[:, :, None] * (w + 2 * padding) + cols[:, None, :]).reshape(n, 1, h * w)
            return padded.reshape(n, c, -1).gather(2, positions.expand(n, c, h * w)).reshape(n, c, h, w)
        ''',
    },
    {
        "task": "task4_4",
        "block": 1,
        "name": "one flip for the whole batch",
        "why": "mirrors all images or none (torch.flip on the batch when draws[2, 0] is set): not per image",
        "body": '''
            n, c, h, w = images.shape
            draws = random_offsets_and_flips(n, padding, generator, images.device)
            padded = F.pad(images, (padding,) * 4, mode=padding_mode) if padding else images
            rows = draws[0][:, None] + torch.arange(h, device=images.device)
            cols = draws[1][:, None] + torch.arange(w, device=images.device)
            positions = (rows[:, :, None] * (w + 2 * padding) + cols[:, None, :]).reshape(n, 1, h * w)
            out = padded.reshape(n, c, -1).gather(2, positions.expand(n, c, h * w)).reshape(n, c, h, w)
            return torch.where(draws[2, :1].bool(), out.flip(-1), out)
        ''',
    },
    {
        "task": "task4_4",
        "block": 1,
        "name": "mirror before cropping the padded image at the same offset",
        "why": "flipping the padded image then cropping at dx takes the window 2p - dx: a crop, but not the drawn one",
        "body": '''
            n, c, h, w = images.shape
            draws = random_offsets_and_flips(n, padding, generator, images.device)
            mirror = draws[2].bool() if flip is None else flip.to(images.device)
            padded = F.pad(images, (padding,) * 4, mode=padding_mode) if padding else images
            padded = torch.where(mirror[:, None, None, None], padded.flip(-1), padded)
            rows = draws[0][:, None] + torch.arange(h, device=images.device)
            cols = draws[1][:, None] + torch.arange(w, device=images.device)
            positions = (rows[:, :, None] * (w + 2 * padding) + cols[:, None, :]).reshape(n, 1, h * w)
            return padded.reshape(n, c, -1).gather(2, positions.expand(n, c, h * w)).reshape(n, c, h, w)
        ''',
    },
]
