/**
 * The result tabs (WAI-ARIA tabs pattern): click or arrow keys to move between them, Home/End for
 * the first and last.
 */

function tabs(): HTMLButtonElement[] {
  return [...document.querySelectorAll<HTMLButtonElement>('[role="tab"]')];
}

/** Shows the panel of the tab with id `id`. */
export function selectTab(id: string): void {
  for (const tab of tabs()) {
    const selected = tab.id === id;
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
    document.getElementById(tab.getAttribute('aria-controls')!)!.hidden = !selected;
  }
}

export function wireTabs(): void {
  const all = tabs();
  for (const [k, tab] of all.entries()) {
    tab.addEventListener('click', () => selectTab(tab.id));
    tab.addEventListener('keydown', (e) => {
      const to = { ArrowRight: k + 1, ArrowLeft: k - 1, Home: 0, End: all.length - 1 }[e.key];
      if (to === undefined) return;
      e.preventDefault();
      const next = all[(to + all.length) % all.length];
      selectTab(next.id);
      next.focus();
    });
  }
  selectTab(all.find((t) => t.getAttribute('aria-selected') === 'true')?.id ?? all[0].id);
}
