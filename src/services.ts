import mongoose from 'mongoose';
import { type Logger } from 'pino';
import { type Config } from './config';
import { AccountTokens } from './accounts/account-tokens';
import { AccountsService } from './accounts/accounts.service';
import { AuditService } from './audit/audit.service';
import { AuthService } from './auth/auth.service';
import { Credentials } from './auth/credentials';
import { type KeyRing, loadKeyRing } from './auth/keys';
import { LoginThrottle } from './auth/login-throttle';
import { PasswordPolicy } from './auth/password-policy';
import { PasswordHasher } from './auth/passwords';
import { PrincipalCache } from './auth/principal-cache';
import { RateLimits } from './auth/rate-limits';
import { SessionService } from './auth/session.service';
import { TokenService } from './auth/tokens';
import { TodoEvents } from './todos/todo-events';
import { Outbox, createMailTransport } from './mail/outbox';
import { TodoService } from './todos/todo.service';
import { AdminGuard } from './users/admin-guard';
import { UserService, findPrincipalById } from './users/user.service';

/** Every long-lived collaborator, built once per app and shared by all requests. */
export interface Services {
  config: Config;
  logger: Logger;
  keys: KeyRing;
  tokens: TokenService;
  passwords: PasswordHasher;
  principals: PrincipalCache;
  audit: AuditService;
  sessions: SessionService;
  credentials: Credentials;
  users: UserService;
  todos: TodoService;
  auth: AuthService;
  /** Calls per address and per account for anonymous and password-hashing operations. */
  limits: RateLimits;
  adminGuard: AdminGuard;
  /** Todo changes for subscribers, on every instance. */
  todoEvents: TodoEvents;
  passwordPolicy: PasswordPolicy;
  outbox: Outbox;
  accounts: AccountsService;
}

export function createServices(config: Config, logger: Logger): Services {
  const keys = loadKeyRing(config.jwt);
  const tokens = new TokenService(keys, config.jwt, config.tokens);
  const passwords = new PasswordHasher(config.argon2, config.hashQueue);
  const principals = new PrincipalCache(config.tokens.revalidateSeconds, findPrincipalById);
  const audit = new AuditService(config.auditRetentionSeconds, logger);
  const sessions = new SessionService(tokens, config.tokens, audit, config.quotas.sessionsPerUser);
  // Models live on mongoose's default connection, which connectDatabase opens.
  const throttle = new LoginThrottle(mongoose.connection, config.loginThrottle, tokens);
  const limits = new RateLimits(mongoose.connection, config.rateLimits);
  const credentials = new Credentials(passwords, throttle, principals, sessions, audit, logger);
  const todoEvents = new TodoEvents(config.subscriptions.eventPollMs, logger);
  const todos = new TodoService(todoEvents, config.quotas.todosPerUser);
  const adminGuard = new AdminGuard();
  const users = new UserService(credentials, sessions, todos, adminGuard);
  const passwordPolicy = new PasswordPolicy(config.accounts.passwordMinScore);
  const outbox = new Outbox(
    createMailTransport(config, logger),
    { attempts: config.mail.sendAttempts, retryDelayMs: config.mail.retryDelayMs },
    logger,
  );
  const accounts = new AccountsService(
    config,
    users,
    passwords,
    passwordPolicy,
    credentials,
    new AccountTokens(config.accounts),
    outbox,
    principals,
    audit,
    limits,
  );
  const auth = new AuthService(
    users,
    sessions,
    tokens,
    passwords,
    credentials,
    audit,
    limits,
    throttle,
    passwordPolicy,
    accounts,
    config.accounts.emailVerification,
  );
  return {
    config,
    logger,
    keys,
    tokens,
    passwords,
    principals,
    audit,
    sessions,
    credentials,
    users,
    todos,
    auth,
    limits,
    adminGuard,
    todoEvents,
    passwordPolicy,
    outbox,
    accounts,
  };
}
