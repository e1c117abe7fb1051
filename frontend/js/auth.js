// Login when the server requires it (GET /auth/config): a small form in the side panel, a token
// from POST /auth/token kept for this tab only (sessionStorage), and the token added to the
// socket address (?token=, since browsers cannot set headers) and to history requests.
import { httpBase } from "./protocol.js";

const KEY = "desafio.token";

function load() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) ?? "null");
    return saved && saved.token && saved.expires > Date.now() ? saved : null;
  } catch {
    return null;
  }
}

function save(value) {
  try {
    if (value) sessionStorage.setItem(KEY, JSON.stringify(value));
    else sessionStorage.removeItem(KEY);
  } catch {
    /* the token then lasts as long as the page */
  }
}

export class Auth {
  constructor(fetcher = (url, init) => fetch(url, init)) {
    this.fetcher = fetcher;
    this.saved = load();
    this.config = { auth_required: false, registration_open: false };
  }

  /** The current token, or null when there is none or it has expired. */
  get token() {
    if (this.saved && this.saved.expires <= Date.now()) this.saved = null;
    return this.saved ? this.saved.token : null;
  }

  async loadConfig() {
    try {
      const response = await this.fetcher(`${httpBase()}/auth/config`);
      if (response.ok) this.config = await response.json();
    } catch {
      /* an older server, or offline: behave as before, anonymous */
    }
    return this.config;
  }

  /** Log in; resolves to null on success, or to a message for the person. */
  async login(username, password) {
    const body = new URLSearchParams({ username, password });
    let response;
    try {
      response = await this.fetcher(`${httpBase()}/auth/token`, { method: "POST", body });
    } catch {
      return "The server cannot be reached.";
    }
    if (response.status === 401) return "Wrong name or password.";
    if (response.status === 429) {
      return `Too many attempts; try again in ${response.headers.get("Retry-After")} s.`;
    }
    if (!response.ok) return "Logging in failed; check the name and password.";
    const answer = await response.json();
    this.saved = { token: answer.access_token, expires: Date.now() + answer.expires_in * 1000 };
    save(this.saved);
    return null;
  }

  /** Create an account, then log in with it. */
  async register(username, password) {
    const response = await this.fetcher(`${httpBase()}/auth/register`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username, password }),
    }).catch(() => null);
    if (!response) return "The server cannot be reached.";
    if (response.status === 409) return "That name is taken.";
    if (response.status === 422) return "Names: 3-32 letters, digits, . _ -; passwords: 8-128.";
    if (!response.ok) return "Signing up is not possible here.";
    return this.login(username, password);
  }

  /** `url` with ?token= when logged in. */
  withToken(url) {
    const token = this.token;
    if (!token) return url;
    const withIt = new URL(url);
    withIt.searchParams.set("token", token);
    return String(withIt);
  }

  headers() {
    const token = this.token;
    return token ? { Authorization: `Bearer ${token}` } : {};
  }
}

/** Show the login form in the side panel until a token is obtained; resolves then. */
export function askForLogin(auth, container) {
  const form = document.createElement("form");
  form.id = "loginForm";
  form.className = "field-form";
  form.noValidate = true;
  form.innerHTML = `
    <label for="loginName">Log in</label>
    <div class="row"><input id="loginName" autocomplete="username" maxlength="32"
      placeholder="username" spellcheck="false" autocapitalize="off"></div>
    <div class="row"><input id="loginPassword" type="password" maxlength="128"
      autocomplete="current-password" placeholder="password">
      <button type="submit">Log in</button></div>
    <p id="loginProblem" class="hint" role="alert"></p>`;
  if (auth.config.registration_open) {
    const signUp = document.createElement("button");
    signUp.type = "button";
    signUp.id = "signUpButton";
    signUp.className = "link-button";
    signUp.textContent = "Create this account";
    form.append(signUp);
  }
  container.prepend(form);
  const field = (id) => form.querySelector(`#${id}`);
  field("loginName").focus();
  return new Promise((resolve) => {
    const attempt = async (action) => {
      const problem = await action(field("loginName").value.trim(), field("loginPassword").value);
      field("loginProblem").textContent = problem ?? "";
      if (problem) return;
      form.remove(); // the password leaves the page with its form
      resolve();
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      attempt((u, p) => auth.login(u, p));
    });
    form.querySelector("#signUpButton")?.addEventListener("click", () => {
      attempt((u, p) => auth.register(u, p));
    });
  });
}
