/**
 * The application shell: session, language, top bar with navigation, and the routes.
 *
 *   /                      → /inbox
 *   /inbox                 tasks my roles can act on now
 *   /instances             all instances (filters, paging)
 *   /instances/:id         one instance: its task, forms, timeline, diagram
 *   /stalled               stalled and overdue, grouped (managers)
 *   /dashboard             charts from the records store (managers, admins, auditors; features/dashboard)
 *   /start                 start a procedure
 *   /notifications         my notifications, how I am told; the e-mail outbox for admins
 *   /registers[/:name]     the registers (lending log, disclosure log, …): filter, export, correct
 *   /definitions[/:id]     definitions (admin; built in ui/src/admin)
 *   /users                 the user directory (admin; ui/src/features/users)
 *   /calendars             business calendar versions (admin; ui/src/features/calendars)
 *   /setup, /password-reset  pages opened from a one-time link, no session (ui/src/features/setup)
 */
import { Suspense, useEffect, type ReactNode } from 'react';
import { I18nProvider, useI18n } from './i18n.tsx';
import { Link, matchPath, navigate, useLocation } from './router.tsx';
import { SessionProvider, useSession } from './session.tsx';
import { LangSwitch } from './components/LangSwitch.tsx';
import { LoginPage } from './pages/Login.tsx';
import { InboxPage } from './pages/Inbox.tsx';
import { InstancesPage } from './pages/Instances.tsx';
import { InstancePage } from './pages/Instance.tsx';
import { StalledPage } from './pages/Stalled.tsx';
import { StartPage } from './pages/Start.tsx';
import { DashboardPage, DefinitionEditorPage, DefinitionsPage } from './lazy.tsx';
import { SetupPage } from './features/setup/SetupPage.tsx';
import { PasswordResetPage } from './features/setup/PasswordResetPage.tsx';
import { UsersPage } from './features/users/UsersPage.tsx';
import { CalendarsPage } from './features/calendars/CalendarsPage.tsx';
import { NotificationBell } from './features/notifications/NotificationBell.tsx';
import { NotificationsPage } from './features/notifications/NotificationsPage.tsx';
import { RegisterPage } from './features/registers/RegisterPage.tsx';
import { RegistersPage } from './features/registers/RegistersPage.tsx';
import type { User } from './types.ts';

export function App() {
  return (
    <I18nProvider>
      <SessionProvider>
        <Root />
      </SessionProvider>
    </I18nProvider>
  );
}

function Root() {
  const { session } = useSession();
  const { lang, pick } = useI18n();
  const { path } = useLocation();
  useEffect(() => {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  }, [lang]);
  // Opened from a one-time link: no session needed (the token is the credential).
  if (path === '/setup') return <SetupPage />;
  if (path === '/password-reset') return <PasswordResetPage />;
  if (session.status === 'loading')
    return (
      <div className="boot" role="status">
        {pick({ zh: '正在加载…', en: 'Loading…' })}
      </div>
    );
  // A session that ended under the user's feet: the page (and what was typed) stays, inert, under
  // the sign-in dialog; signing in again as the same user carries on where they were. The tree
  // has the same shape in both cases, so React keeps the page's state.
  const user = session.status === 'signedIn' ? session.user : session.previous;
  if (!user) return <LoginPage />;
  const expired = session.status === 'signedOut';
  return (
    <>
      <div className="shell-wrap" inert={expired || undefined}>
        <Shell key={user.id} user={user} />
      </div>
      {expired && <LoginPage dialog />}
    </>
  );
}

interface NavItem {
  to: string;
  zh: string;
  en: string;
  admin?: boolean;
  /** Shown only to users holding this permission (`/api/me`'s `permissions`). */
  permission?: string;
}

const NAV: NavItem[] = [
  { to: '/inbox', zh: '收件箱', en: 'Inbox' },
  { to: '/instances', zh: '实例', en: 'Instances' },
  { to: '/stalled', zh: '停滞与逾期', en: 'Stalled' },
  { to: '/dashboard', zh: '仪表板', en: 'Dashboard', permission: 'dashboard' },
  { to: '/start', zh: '发起', en: 'Start' },
  { to: '/registers', zh: '登记册', en: 'Registers' },
  { to: '/definitions', zh: '流程定义', en: 'Definitions', admin: true },
  { to: '/users', zh: '用户', en: 'Users', admin: true },
  { to: '/calendars', zh: '工作日历', en: 'Calendars', admin: true },
];

function Shell({ user }: { user: User }) {
  const { pick } = useI18n();
  const { signOut } = useSession();
  const { path } = useLocation();
  const isAdmin = user.roles.includes('admin');
  useEffect(() => {
    if (path === '/' || path === '') navigate('/inbox', { replace: true });
  }, [path]);

  return (
    <div className="app">
      <a className="skip" href="#main">
        {pick({ zh: '跳到正文', en: 'Skip to content' })}
      </a>
      <header className="topbar">
        <Link to="/inbox" className="brand" aria-label="Custodia">
          <span className="brand-mark" aria-hidden="true">
            C
          </span>
          <span>Custodia</span>
          <span className="brand-sub">{pick({ zh: '保密管理', en: 'Confidentiality' })}</span>
        </Link>
        <nav aria-label={pick({ zh: '主导航', en: 'Main' })}>
          <ul>
            {NAV.filter(
              (n) =>
                (!n.admin || isAdmin) && (!n.permission || (user.permissions ?? []).includes(n.permission)),
            ).map((n) => {
              const active = path === n.to || path.startsWith(n.to + '/');
              return (
                <li key={n.to}>
                  <Link
                    to={n.to}
                    aria-current={active ? 'page' : undefined}
                    className={active ? 'active' : ''}
                  >
                    {pick(n)}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <div className="topbar-right">
          <NotificationBell />
          <LangSwitch />
          <span className="user" title={user.roles.join(', ')}>
            <span className="user-name">{user.displayName || user.id}</span>
            <span className="user-id">{user.id}</span>
          </span>
          <button type="button" className="ghost" onClick={() => void signOut()}>
            {pick({ zh: '退出登录', en: 'Sign out' })}
          </button>
        </div>
      </header>
      <main id="main" className="main">
        <Suspense fallback={<p className="muted">{pick({ zh: '正在加载…', en: 'Loading…' })}</p>}>
          <Routes path={path} isAdmin={isAdmin} />
        </Suspense>
      </main>
    </div>
  );
}

function Routes({ path, isAdmin }: { path: string; isAdmin: boolean }): ReactNode {
  const { pick } = useI18n();
  if (path === '/inbox' || path === '/') return <InboxPage />;
  if (path === '/instances') return <InstancesPage />;
  const inst = matchPath('/instances/:id', path);
  if (inst?.id) return <InstancePage key={inst.id} id={inst.id} />;
  if (path === '/stalled') return <StalledPage />;
  if (path === '/dashboard') return <DashboardPage />;
  if (path === '/start') return <StartPage />;
  if (path === '/registers') return <RegistersPage />;
  const register = matchPath('/registers/:name', path);
  if (register?.name) return <RegisterPage key={register.name} name={register.name} />;
  if (path === '/users')
    return isAdmin ? (
      <UsersPage />
    ) : (
      <NotFound text={pick({ zh: '仅管理员可管理用户。', en: 'Only administrators manage users.' })} />
    );
  if (path === '/calendars')
    return isAdmin ? (
      <CalendarsPage />
    ) : (
      <NotFound
        text={pick({ zh: '仅管理员可管理工作日历。', en: 'Only administrators manage calendars.' })}
      />
    );
  if (path === '/notifications') return <NotificationsPage isAdmin={isAdmin} />;
  if (path === '/definitions' || path.startsWith('/definitions/')) {
    if (!isAdmin)
      return (
        <NotFound
          text={pick({ zh: '仅管理员可管理流程定义。', en: 'Only administrators manage definitions.' })}
        />
      );
    const def = matchPath('/definitions/:id', path);
    if (def?.id) return <DefinitionEditorPage key={def.id} id={def.id} navigate={navigate} />;
    if (path === '/definitions') return <DefinitionsPage navigate={navigate} />;
    return <NotFound />;
  }
  return <NotFound />;
}

function NotFound({ text }: { text?: string }) {
  const { pick } = useI18n();
  return (
    <section className="page">
      <h1>{pick({ zh: '找不到页面', en: 'Page not found' })}</h1>
      <p className="muted">{text ?? pick({ zh: '地址不存在。', en: 'There is nothing at this address.' })}</p>
      <Link to="/inbox">{pick({ zh: '返回收件箱', en: 'Back to the inbox' })}</Link>
    </section>
  );
}
