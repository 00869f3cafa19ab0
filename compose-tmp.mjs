import sharp from 'sharp';
const bird = await sharp('../shared/images/bird.bmp').resize(512, 343).toBuffer();
const sparrow = await sharp('../shared/images/sparrow.png').resize(516, 343).toBuffer();
await sharp({ create: { width: 1028, height: 343, channels: 3, background: { r: 128, g: 128, b: 128 } } })
  .composite([{ input: bird, left: 0, top: 0 }, { input: sparrow, left: 512, top: 0 }]).png().toFile('/tmp/two-birds.png');
