"""Lab 4 — realistic wrong answers: each must fail its task's tests with a message a learner
can act on. Format: authoring/README.md ("Answer catalogues")."""

ANSWERS = [
    # ----------------------------------------------------------------- task4_1
    {
        "task": "task4_1",
        "block": 1,
        "name": "classes in directory order",
        "why": "iterdir() order is the file system's, not sorted: labels differ between machines",
        "patch": [
            ('''
                    raise FileNotFoundError(
                        f"image folder {root} does not exist: expected {root}/<class_name>/<image files> "
                        "(for CIFAR-10, point it at the unpacked train/ or test/ folder)"
                    )
                classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
            ''', '''
                    raise FileNotFoundError(f"image folder not found: {root}")
                classes = [p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
                classes.sort(key=lambda name: name[::-1])  # some order that is not sorted()
            '''),
            ('''
                    raise ValueError(f"{root} has no class folders: expected {root}/<class_name>/<image files>")
                samples: list[tuple[Path, int]] = []
                skipped: list[tuple[Path, str]] = []
            ''', '''
                    raise ValueError(f"{root} has no class folders")
                samples, skipped = [], []
            '''),
            ('''
                raise ValueError(
                    f"class folder {root / name} has no images ({', '.join(IMAGE_EXTENSIONS)}): "
                    "add images or remove the folder"
                )
            ''', '''
                raise ValueError(f"class folder {root / name} has no images")
            '''),
            ('''
                self.root = root
                self.transform = transform
                self.classes = classes
            ''', '''
                self.root, self.transform, self.classes = root, transform, classes
            '''),
            ('''
                self.samples = samples
                self.targets = [label for _, label in samples]
                self.skipped = skipped
            ''', '''
                self.samples, self.targets, self.skipped = samples, [label for _, label in samples], skipped
            '''),
        ],
    },
    {
        "task": "task4_1",
        "block": 1,
        "name": "an empty class folder is skipped silently",
        "why": "a class with no images shifts nothing today but leaves a label no sample has; the task asks for a clear error",
        "patch": [
            ('''
                raise FileNotFoundError(
                    f"image folder {root} does not exist: expected {root}/<class_name>/<image files> "
                    "(for CIFAR-10, point it at the unpacked train/ or test/ folder)"
                )
            ''', '''
                raise FileNotFoundError(f"image folder not found: {root}")
            '''),
            ('''
                if not classes:
                    raise ValueError(f"{root} has no class folders: expected {root}/<class_name>/<image files>")
                samples: list[tuple[Path, int]] = []
                skipped: list[tuple[Path, str]] = []
            ''', '''
                samples, skipped = [], []
            '''),
            ('''
                if not files:
                    raise ValueError(
                        f"class folder {root / name} has no images ({', '.join(IMAGE_EXTENSIONS)}): "
                        "add images or remove the folder"
                    )
            ''', '''

            '''),
            ('''
                self.root = root
                self.transform = transform
                self.classes = classes
            ''', '''
                self.root, self.transform, self.classes = root, transform, classes
            '''),
            ('''
                self.samples = samples
                self.targets = [label for _, label in samples]
                self.skipped = skipped
            ''', '''
                self.samples, self.targets, self.skipped = samples, [label for _, label in samples], skipped
            '''),
        ],
    },
    {
        "task": "task4_1",
        "block": 1,
        "name": "missing folder error without the path",
        "why": "FileNotFoundError('folder not found') leaves the learner guessing which path was wrong",
        "mentions": "name it",
        "patch": [
            ('''
                raise FileNotFoundError(
                    f"image folder {root} does not exist: expected {root}/<class_name>/<image files> "
                    "(for CIFAR-10, point it at the unpacked train/ or test/ folder)"
                )
            ''', '''
                raise FileNotFoundError("image folder not found")
            '''),
            ('''
                if not classes:
                    raise ValueError(f"{root} has no class folders: expected {root}/<class_name>/<image files>")
                samples: list[tuple[Path, int]] = []
                skipped: list[tuple[Path, str]] = []
            ''', '''
                samples, skipped = [], []
            '''),
            ('''
                raise ValueError(
                    f"class folder {root / name} has no images ({', '.join(IMAGE_EXTENSIONS)}): "
                    "add images or remove the folder"
                )
            ''', '''
                raise ValueError(f"class folder {root / name} has no images")
            '''),
            ('''
                self.root = root
                self.transform = transform
                self.classes = classes
            ''', '''
                self.root, self.transform, self.classes = root, transform, classes
            '''),
            ('''
                self.samples = samples
                self.targets = [label for _, label in samples]
                self.skipped = skipped
            ''', '''
                self.samples, self.targets, self.skipped = samples, [label for _, label in samples], skipped
            '''),
        ],
    },
    {
        "task": "task4_1",
        "block": 2,
        "name": "image opened without converting to RGB",
        "why": "Image.open(path) keeps grayscale/palette modes: batches then have 1 or 4 channels",
        "patch": [
            ('''
                image = load_rgb(path)
            ''', '''
                image = Image.open(path)
            '''),
        ],
    },
    {
        "task": "task4_1",
        "block": 2,
        "name": "transform forgotten",
        "why": "returns the PIL image even when a transform was given",
        "patch": [
            ('''
                image = load_rgb(path)
                if self.transform is not None:
                    image = self.transform(image)
                return image, label
            ''', '''
                return load_rgb(path), label
            '''),
        ],
    },
    # ----------------------------------------------------------------- task4_2
    {
        "task": "task4_2",
        "block": 1,
        "name": "direct torch.save onto the cache file, torch.load(weights_only=False)",
        "why": "an interrupted save leaves a half cache the next run trusts; weights_only=False runs pickled code",
        "patch": [
            ('''
                try:
                    data = torch.load(cache_file, weights_only=True)  # tensors, lists, dicts only: no code runs
                except Exception as error:
                    raise ValueError(f"cache file {cache_file} is damaged ({type(error).__name__}): delete it and run again") from None
            ''', '''
                data = torch.load(cache_file, weights_only=False)
            '''),
            ('''
                arrays = []
                for path, _ in dataset.samples:
                    array = np.asarray(load_rgb(path))
                    if arrays and array.shape != arrays[0].shape:
                        raise ValueError(
                            f"{path} is {array.shape[1]}x{array.shape[0]} but the first image is "
                            f"{arrays[0].shape[1]}x{arrays[0].shape[0]}: resize the folder to one size first"
                        )
                    arrays.append(array)
            ''', '''
                arrays = [np.asarray(load_rgb(path)) for path, _ in dataset.samples]
                for (path, _), array in zip(dataset.samples, arrays):
                    if array.shape != arrays[0].shape:
                        raise ValueError(f"{path} has another size than the first image")
            '''),
            ('''
                partial = cache_file.with_suffix(".partial")
                torch.save({"images": images, "labels": labels, "classes": dataset.classes}, partial)
                partial.replace(cache_file)  # atomic: the cache file is either absent or complete
            ''', '''
                torch.save({"images": images, "labels": labels, "classes": dataset.classes}, cache_file)
            '''),
        ],
    },
    {
        "task": "task4_2",
        "block": 1,
        "name": "atomic save but weights_only=False",
        "why": "a .pt file is a pickle: weights_only=False runs whatever code a crafted cache file holds",
        "mentions": "weights_only=true",
        "patch": [
            ('''
                data = torch.load(cache_file, weights_only=True)  # tensors, lists, dicts only: no code runs
            ''', '''
                data = torch.load(cache_file, weights_only=False)
            '''),
            ('''
                raise ValueError(f"cache file {cache_file} is damaged ({type(error).__name__}): delete it and run again") from None
            ''', '''
                raise ValueError(f"cache file {cache_file} is damaged: delete it") from None
            '''),
            ('''
                arrays = []
                for path, _ in dataset.samples:
                    array = np.asarray(load_rgb(path))
                    if arrays and array.shape != arrays[0].shape:
                        raise ValueError(
                            f"{path} is {array.shape[1]}x{array.shape[0]} but the first image is "
                            f"{arrays[0].shape[1]}x{arrays[0].shape[0]}: resize the folder to one size first"
                        )
                    arrays.append(array)
            ''', '''
                arrays = [np.asarray(load_rgb(path)) for path, _ in dataset.samples]
                for (path, _), array in zip(dataset.samples, arrays):
                    if array.shape != arrays[0].shape:
                        raise ValueError(f"{path} has another size than the first image")
            '''),
            ('''
                partial.replace(cache_file)  # atomic: the cache file is either absent or complete
            ''', '''
                partial.replace(cache_file)
            '''),
        ],
    },
    {
        "task": "task4_2",
        "block": 1,
        "name": "images kept as (N, H, W, 3)",
        "why": "np.stack of PIL arrays is channels-last; torch models want (N, 3, H, W): the permute is missing",
        "patch": [
            ('''
                cache_file = None
            ''', '''
                arrays = [np.asarray(load_rgb(path)) for path, _ in dataset.samples]
                images = torch.from_numpy(np.stack(arrays))
                labels = torch.tensor(dataset.targets, dtype=torch.int64)
            '''),
            ('''
                    if cache_file.exists():
                        try:
                            data = torch.load(cache_file, weights_only=True)  # tensors, lists, dicts only: no code runs
                        except Exception as error:
                            raise ValueError(f"cache file {cache_file} is damaged ({type(error).__name__}): delete it and run again") from None
                        return InMemoryImages(data["images"], data["labels"], list(data["classes"]))
                arrays = []
                for path, _ in dataset.samples:
                    array = np.asarray(load_rgb(path))
                    if arrays and array.shape != arrays[0].shape:
                        raise ValueError(
                            f"{path} is {array.shape[1]}x{array.shape[0]} but the first image is "
                            f"{arrays[0].shape[1]}x{arrays[0].shape[0]}: resize the folder to one size first"
                        )
                    arrays.append(array)
                images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
                labels = torch.tensor(dataset.targets, dtype=torch.int64)
                if cache_file is not None:
            ''', '''

            '''),
            ('''
                partial.replace(cache_file)  # atomic: the cache file is either absent or complete
            ''', '''
                partial.replace(cache_file)
            '''),
        ],
    },
    # ----------------------------------------------------------------- task4_3
    {
        "task": "task4_3",
        "block": 1,
        "name": "ColorJitter with brightness only",
        "why": "the docstring asks for brightness, contrast and saturation",
        "mentions": "contrast",
        "patch": [
            ('''
                v2.ColorJitter(brightness=jitter, contrast=jitter, saturation=jitter),
            ''', '''
                v2.ColorJitter(brightness=jitter),
            '''),
        ],
    },
    {
        "task": "task4_3",
        "block": 1,
        "name": "RandomHorizontalFlip(p=1.0)",
        "why": "mirrors every image: no augmentation at all, just a mirrored data set",
        "mentions": "p=0.5",
        "patch": [
            ('''
                v2.RandomHorizontalFlip(p=0.5),
            ''', '''
                v2.RandomHorizontalFlip(p=1.0),
            '''),
        ],
    },
    {
        "task": "task4_3",
        "block": 1,
        "name": "Normalize before ToDtype",
        "why": "Normalize on uint8 tensors: wrong numbers or an error",
        "patch": [
            ('''
                v2.ColorJitter(brightness=jitter, contrast=jitter, saturation=jitter),
            ''', '''
                v2.ColorJitter(brightness=jitter, contrast=jitter, saturation=jitter),
                v2.Normalize(mean=list(mean), std=list(std)),
            '''),
            ('''
                v2.Normalize(mean=list(mean), std=list(std)),
            ''', '''

            '''),
        ],
    },
    {
        "task": "task4_3",
        "block": 1,
        "name": "ToDtype without scale=True in the training transform",
        "why": "the README's common mistake: values in 0-255 normalised with statistics of 0-1",
        "mentions": "scaled to 0-1",
        "patch": [
            ('''
                v2.ToDtype(torch.float32, scale=True),
            ''', '''
                v2.ToDtype(torch.float32),
            '''),
        ],
    },
    {
        "task": "task4_3",
        "block": 2,
        "name": "ToDtype without scale=True",
        "why": "values stay in 0..255, so normalising with [0, 1] statistics gives huge inputs",
        "body": '''
            return v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32), v2.Normalize(mean=list(mean), std=list(std))])
        ''',
    },
    {
        "task": "task4_3",
        "block": 2,
        "name": "augmentation in the evaluation transform",
        "why": "a random crop at evaluation: the reported accuracy measures a different input",
        "patch": [
            ('''
                [
                    v2.ToImage(),
                    v2.ToDtype(torch.float32, scale=True),
                    v2.Normalize(mean=list(mean), std=list(std)),
                ]
            ''', '''
                [v2.ToImage(), v2.RandomCrop(32, padding=4, pad_if_needed=True), v2.ToDtype(torch.float32, scale=True),
                 v2.Normalize(mean=list(mean), std=list(std))]
            '''),
        ],
    },
    # ----------------------------------------------------------------- task4_4 (block 2: normalize_batch)
    {
        "task": "task4_4",
        "block": 2,
        "name": "no division by 255",
        "why": "the statistics are in [0, 1] units; uint8 values are 0..255",
        "patch": [
            ('''
                # One multiply and one subtract, in place on the fresh float copy: x * (1 / (255 std)) - mean / std.
                return images.to(torch.float32).mul_(1.0 / (255.0 * std_t)).sub_(mean_t / std_t)
            ''', '''
                return (images.float() - mean_t) / std_t
            '''),
        ],
    },
    {
        "task": "task4_4",
        "block": 2,
        "name": "mean and std broadcast along the width",
        "why": "torch.tensor(mean) has shape (3,): it broadcasts over the last axis (W), not the channels",
        "mentions": "broadcast",
        "body": '''
            mean_t = torch.as_tensor(mean, dtype=torch.float32, device=images.device)
            std_t = torch.as_tensor(std, dtype=torch.float32, device=images.device)
            return (images.float() / 255 - mean_t) / std_t
        ''',
    },
    # ----------------------------------------------------------------- task4_5
    {
        "task": "task4_5",
        "block": 1,
        "name": "statistics of every image, not images[indices]",
        "why": "validation images leak into the preprocessing",
        "body": '''
            scaled = images.to(torch.float64) / (255.0 if images.dtype == torch.uint8 else 1.0)
            return scaled.mean(dim=(0, 2, 3)).float(), scaled.std(dim=(0, 2, 3), unbiased=False).float()
        ''',
    },
    {
        "task": "task4_5",
        "block": 1,
        "name": "sample std (unbiased) instead of the population std",
        "why": "Normalize expects the population std; torch.std defaults to dividing by n - 1",
        "body": '''
            chosen = images if indices is None else images[indices]
            scaled = chosen.to(torch.float64) / (255.0 if images.dtype == torch.uint8 else 1.0)
            per_channel = scaled.transpose(0, 1).reshape(scaled.shape[1], -1)
            return per_channel.mean(dim=1).float(), per_channel.std(dim=1).float()
        ''',
    },
    {
        "task": "task4_5",
        "block": 2,
        "name": "plain random split",
        "why": "a random permutation cut at N * val_fraction: class shares drift, rare classes may vanish from validation",
        "mentions": "per class",
        "body": '''
            generator = torch.Generator().manual_seed(seed)
            order = torch.randperm(len(labels), generator=generator)
            k = int(round(len(labels) * val_fraction))
            return order[k:].sort().values, order[:k].sort().values
        ''',
    },
    {
        "task": "task4_5",
        "block": 2,
        "name": "unseeded shuffle",
        "why": "torch.randperm without the generator: another split every run",
        "patch": [
            ('''
                generator = torch.Generator().manual_seed(seed)
            ''', '''

            '''),
            ('''
                idx = idx[torch.randperm(len(idx), generator=generator)]
            ''', '''
                idx = idx[torch.randperm(len(idx))]
            '''),
            ('''
                train = torch.cat(train_parts).sort().values if train_parts else torch.empty(0, dtype=torch.long)
                val = torch.cat(val_parts).sort().values if val_parts else torch.empty(0, dtype=torch.long)
                return train, val
            ''', '''
                return torch.cat(train_parts).sort().values, torch.cat(val_parts).sort().values
            '''),
        ],
    },
    {
        "task": "task4_5",
        "block": 2,
        "name": "split not sorted",
        "why": "the docstring promises sorted index tensors",
        "mentions": "sorted",
        "patch": [
            ('''
                train = torch.cat(train_parts).sort().values if train_parts else torch.empty(0, dtype=torch.long)
                val = torch.cat(val_parts).sort().values if val_parts else torch.empty(0, dtype=torch.long)
                return train, val
            ''', '''
                return torch.cat(train_parts), torch.cat(val_parts)
            '''),
        ],
    },
    # ----------------------------------------------------------------- task4_6
    {
        "task": "task4_6",
        "block": 1,
        "name": "seed_worker seeds with the worker id",
        "why": "np.random.seed(worker_id): every epoch and every run repeats the same augmentations per worker",
        "body": '''
            np.random.seed(worker_id)
            random.seed(worker_id)
        ''',
    },
    {
        "task": "task4_6",
        "block": 1,
        "name": "seed_worker seeds NumPy only",
        "why": "augmentations written with Python's random stay unseeded",
        "body": '''
            np.random.seed(torch.initial_seed() % 2**32)
        ''',
    },
    {
        "task": "task4_6",
        "block": 2,
        "name": "DataLoader without generator=",
        "why": "the order and the workers' seeds then come from the global torch seed, not from `seed`",
        "mentions": "generator",
        "patch": [
            ('''
                dataset,
                batch_size=batch_size,
                shuffle=shuffle,
                sampler=sampler,
                num_workers=num_workers,
                pin_memory=torch.cuda.is_available(),
                persistent_workers=num_workers > 0,
                drop_last=drop_last,
                generator=torch.Generator().manual_seed(seed),
            ''', '''
                dataset, batch_size=batch_size, shuffle=shuffle, sampler=sampler, num_workers=num_workers,
                pin_memory=torch.cuda.is_available(), persistent_workers=num_workers > 0, drop_last=drop_last,
            '''),
        ],
    },
    {
        "task": "task4_6",
        "block": 2,
        "name": "pin_memory=True always, no persistent workers",
        "why": "pinning without a GPU only costs RAM; workers restart every epoch",
        "patch": [
            ('''
                dataset,
                batch_size=batch_size,
                shuffle=shuffle,
                sampler=sampler,
                num_workers=num_workers,
                pin_memory=torch.cuda.is_available(),
                persistent_workers=num_workers > 0,
                drop_last=drop_last,
                generator=torch.Generator().manual_seed(seed),
            ''', '''
                dataset, batch_size=batch_size, shuffle=shuffle, sampler=sampler, num_workers=num_workers,
                pin_memory=True, drop_last=drop_last, generator=torch.Generator().manual_seed(seed),
            '''),
        ],
    },
    # ----------------------------------------------------------------- task4_7
    {
        "task": "task4_7",
        "block": 1,
        "name": "weights 1 / n_c without the N / C factor",
        "why": "right ratios, wrong scale: the loss shrinks by N / C and the learning rate means something else",
        "body": '''
            counts = class_counts(labels, num_classes)
            if (counts == 0).any():
                raise ValueError(f"classes {(counts == 0).nonzero().flatten().tolist()} have no samples")
            return (1.0 / counts).to(torch.float32)
        ''',
    },
    {
        "task": "task4_7",
        "block": 1,
        "name": "empty class gives inf instead of an error",
        "why": "a class without samples gets an infinite weight that turns the loss into inf/NaN later",
        "patch": [
            ('''
                missing = (counts == 0).nonzero().flatten().tolist()
                if missing:
                    raise ValueError(f"classes {missing} have no samples: their weight would be infinite; drop them or pass fewer classes")
            ''', '''

            '''),
        ],
    },
    {
        "task": "task4_7",
        "block": 2,
        "name": "sampling without replacement",
        "why": "replacement=False can draw each rare image once only: the classes cannot be balanced",
        "mentions": "edit balanced_sampler()",
        "body": '''
            labels = torch.as_tensor(labels, dtype=torch.long)
            weights = 1.0 / class_counts(labels)[labels].to(torch.float64)
            n = len(labels) if num_samples is None else min(num_samples, len(labels))
            return WeightedRandomSampler(weights, num_samples=n, replacement=False, generator=torch.Generator().manual_seed(seed))
        ''',
    },
    {
        "task": "task4_7",
        "block": 2,
        "name": "per-sample weight = count of its class",
        "why": "inverted: the common class is drawn even more often",
        "body": '''
            labels = torch.as_tensor(labels, dtype=torch.long)
            weights = class_counts(labels)[labels].to(torch.float64)
            return WeightedRandomSampler(weights, num_samples=len(labels) if num_samples is None else num_samples,
                                         replacement=True, generator=torch.Generator().manual_seed(seed))
        ''',
    },
    # ----------------------------------------------------------------- task4_8
    {
        "task": "task4_8",
        "block": 1,
        "name": "statistics over the whole folder",
        "why": "validation images leak into the normalisation",
        "mentions": "training split only",
        "patch": [
            ('''
                mean, std = compute_mean_std(data.images, train_idx)
            ''', '''
                mean, std = compute_mean_std(data.images)
            '''),
            ('''
                train_loader=make_loader(train_set, batch_size, shuffle=True, num_workers=num_workers, seed=seed),
                val_loader=make_loader(val_set, batch_size, shuffle=False, num_workers=num_workers, seed=seed),
                classes=data.classes,
                mean=mean,
                std=std,
                train_indices=train_idx,
                val_indices=val_idx,
            ''', '''
                make_loader(train_set, batch_size, shuffle=True, num_workers=num_workers, seed=seed),
                make_loader(val_set, batch_size, shuffle=False, num_workers=num_workers, seed=seed),
                data.classes, mean, std, train_idx, val_idx,
            '''),
        ],
    },
    {
        "task": "task4_8",
        "block": 1,
        "name": "validation augmented like training",
        "why": "the training transform on the validation split: a different number every evaluation",
        "mentions": "augmented",
        "patch": [
            ('''
                train_set = torch.utils.data.Subset(
                    InMemoryImageDataset(data.images, data.labels, train_transforms(mean.tolist(), std.tolist(), size, padding, jitter)),
                    train_idx.tolist(),
                )
                val_set = torch.utils.data.Subset(
                    InMemoryImageDataset(data.images, data.labels, eval_transforms(mean.tolist(), std.tolist())), val_idx.tolist()
                )
            ''', '''
                augmented = InMemoryImageDataset(data.images, data.labels, train_transforms(mean.tolist(), std.tolist(), size, padding, jitter))
            '''),
            ('''
                train_loader=make_loader(train_set, batch_size, shuffle=True, num_workers=num_workers, seed=seed),
                val_loader=make_loader(val_set, batch_size, shuffle=False, num_workers=num_workers, seed=seed),
                classes=data.classes,
                mean=mean,
                std=std,
                train_indices=train_idx,
                val_indices=val_idx,
            ''', '''
                make_loader(torch.utils.data.Subset(augmented, train_idx.tolist()), batch_size, shuffle=True, num_workers=num_workers, seed=seed),
                make_loader(torch.utils.data.Subset(augmented, val_idx.tolist()), batch_size, shuffle=False, num_workers=num_workers, seed=seed),
                data.classes, mean, std, train_idx, val_idx,
            '''),
        ],
    },
    # ----------------------------------------------------------------- task4_9 (extension)
    {
        "task": "task4_9",
        "block": 1,
        "name": "seeded but states never restored",
        "why": "the main process's random streams change with every item loaded (num_workers=0)",
        "patch": [
            ('''
                states = torch.get_rng_state(), random.getstate(), np.random.get_state()
                try:
                    torch.default_generator.manual_seed(seed)
                    random.seed(seed)
                    np.random.seed(seed % 2**32)
                    return self.dataset[index]
                finally:
                    torch.set_rng_state(states[0])
                    random.setstate(states[1])
                    np.random.set_state(states[2])
            ''', '''
                torch.default_generator.manual_seed(seed)
                random.seed(seed)
                np.random.seed(seed % 2**32)
                return self.dataset[index]
            '''),
        ],
    },
    {
        "task": "task4_9",
        "block": 1,
        "name": "only torch seeded",
        "why": "NumPy and random keep each worker's own stream: the batches depend on num_workers",
        "patch": [
            ('''
                states = torch.get_rng_state(), random.getstate(), np.random.get_state()
            ''', '''
                state = torch.get_rng_state()
            '''),
            ('''
                random.seed(seed)
                np.random.seed(seed % 2**32)
            ''', '''

            '''),
            ('''
                torch.set_rng_state(states[0])
                random.setstate(states[1])
                np.random.set_state(states[2])
            ''', '''
                torch.set_rng_state(state)
            '''),
        ],
    },
    # ----------------------------------------------------------------- task4_4 (block 1: random_crop_flip)
    {
        "task": "task4_4",
        "block": 1,
        "name": "per-image Python loop",
        "why": "correct pixels, but one slice per image: the lesson is batched augmentation",
        "mentions": "loops over the images",
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
        "name": "a loop over the offsets, batched over images",
        "why": "correct pixels and no loop over images (the operation count does not grow with N), but one pass "
               "over the whole batch per offset, 81 at padding 4: slower than the per-image loop it replaces",
        "mentions": "too slow",
        "patch": [
            ('''
                padded_w = w + 2 * padding
                rows = dy[:, None] + torch.arange(h, device=device)  # (N, H)
                cols = dx[:, None] + torch.arange(w, device=device)  # (N, W)
                cols = torch.where(flip[:, None], cols.flip(1), cols)  # reading columns backwards = mirror image
                positions = (rows[:, :, None] * padded_w + cols[:, None, :]).reshape(n, 1, h * w)  # (N, 1, H*W)
                flat = padded.reshape(n, c, -1)  # (N, C, H2*W2)
                return flat.gather(2, positions.expand(n, c, h * w)).reshape(n, c, h, w)
            ''', '''
                out = torch.zeros_like(images)
                for y in range(2 * padding + 1):  # every image at once, one offset at a time
                    for x in range(2 * padding + 1):
                        here = ((dy == y) & (dx == x))[:, None, None, None]
                        out = torch.where(here, padded[:, :, y : y + h, x : x + w], out)
                return torch.where(flip[:, None, None, None], out.flip(-1), out)
            '''),
        ],
    },
    {
        "task": "task4_4",
        "block": 1,
        "name": "three separate draws, three blocking copies",
        "why": "draws dy, dx and the coins one by one and moves each to the device: three copies per batch, and not the random numbers random_offsets_and_flips gives",
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
    {
        "task": "task4_3",
        "name": "reflect padding before the crop",
        "why": "the docstring asks for zero padding; reflection invents image content at the borders",
        "mentions": "zero padding",
        "patch": [("v2.RandomCrop(size, padding=padding),", "v2.Pad(padding, padding_mode=\"reflect\"),\nv2.RandomCrop(size),")],
    },
]
