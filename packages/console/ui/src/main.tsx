import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { saveKey } from './api';
import { ApprovalsPage } from './approvals';
import { InsightsPage } from './insights';
import { RunPage } from './run';
import { RunsPage } from './runs';
import { StartPage } from './start';
import './style.css';
import { savedUser, saveUser } from './util';

function currentRoute(): string {
  return location.hash.replace(/^#/, '') || '/';
}

const NAV = [
  ['/', 'Runs'],
  ['/approvals', 'Approvals'],
  ['/start', 'Start a run'],
  ['/insights', 'Evals & metrics'],
] as const;

function App() {
  const [route, setRoute] = useState(currentRoute());
  const [user, setUser] = useState(savedUser());
  const [needsKey, setNeedsKey] = useState(false);
  useEffect(() => {
    const onUnauthorized = () => setNeedsKey(true);
    addEventListener('baton:unauthorized', onUnauthorized);
    return () => removeEventListener('baton:unauthorized', onUnauthorized);
  }, []);
  useEffect(() => {
    const onHash = () => {
      setRoute(currentRoute());
      // Move focus to the new page's heading, as a page load would for a screen reader.
      requestAnimationFrame(() => document.querySelector<HTMLElement>('main h1')?.focus());
    };
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const onUser = (value: string) => {
    setUser(value);
    saveUser(value);
  };
  let page = <RunsPage />;
  if (route.startsWith('/runs/'))
    page = <RunPage id={decodeURIComponent(route.slice('/runs/'.length))} user={user} />;
  else if (route === '/approvals') page = <ApprovalsPage user={user} />;
  else if (route === '/start') page = <StartPage user={user} />;
  else if (route === '/insights') page = <InsightsPage />;
  const section = route.startsWith('/runs/') ? '/' : route;
  return (
    <>
      <a class="skip" href="#content">
        Skip to content
      </a>
      <header>
        <nav aria-label="Console">
          <span class="brand">Baton</span>
          <ul>
            {NAV.map(([path, label]) => (
              <li key={path}>
                <a href={`#${path}`} aria-current={section === path ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        {needsKey && (
          <form
            class="who"
            onSubmit={(event) => {
              event.preventDefault();
              const input = (event.target as HTMLFormElement).elements.namedItem('key') as HTMLInputElement;
              saveKey(input.value.trim());
              location.reload();
            }}
          >
            <label class="who">
              API key <input name="key" type="password" autocomplete="off" required />
            </label>
            <button type="submit">Use key</button>
          </form>
        )}
        <label class="who">
          Your name{' '}
          <input
            name="user"
            value={user}
            autocomplete="name"
            placeholder="who decides"
            onInput={(event) => onUser((event.target as HTMLInputElement).value)}
          />
        </label>
      </header>
      <main id="content">{page}</main>
    </>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
