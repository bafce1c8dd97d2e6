// Drives the dev page in headless Chromium (Debian's /usr/bin/chromium) with puppeteer-core from
// .tools/browser (`make dev-tools`). Usage: node page.cjs PAGE_URL CLAIMS WAIT_FOR
// Mints a token with CLAIMS through the page, connects, prints "open" on stdout, then waits for a message
// containing WAIT_FOR and prints it as "message: …". Exits 1 with the page's log on failure.
const path = require('path');
const root = path.resolve(__dirname, '..', '..');
const puppeteer = require(path.join(root, '.tools', 'browser', 'node_modules', 'puppeteer-core'));
const fs = require('fs');
const os = require('os');

(async () => {
  const [pageUrl, claims, waitFor] = process.argv.slice(2);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sockstack-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--user-data-dir=${profile}`],
  });
  const log = async (page) => page.$$eval('#log li', (items) => items.map((i) => i.textContent).join('\n'));
  let page;
  try {
    page = await browser.newPage();
    await page.goto(pageUrl, { waitUntil: 'load' });
    await page.$eval('#claims', (el, v) => { el.value = v; }, claims);
    await page.click('#mint');
    await page.waitForFunction(() => document.querySelector('#token').value.split('.').length === 3, { timeout: 10000 });
    await page.click('#connect');
    await page.waitForSelector('#state[data-state="open"]', { timeout: 10000 });
    console.log('open');
    const handle = await page.waitForFunction((needle) => {
      const hit = [...document.querySelectorAll('#log li.in')].find((li) => li.textContent.includes(needle));
      return hit ? hit.textContent : null;
    }, { timeout: 20000 }, waitFor);
    console.log(`message: ${await handle.jsonValue()}`);
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  } catch (e) {
    console.error(`browser test failed: ${e.message}`);
    if (page) console.error(`page log:\n${await log(page).catch(() => '(none)')}`);
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
    process.exit(1);
  }
})();
