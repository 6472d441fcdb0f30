// "Read" is decided from the page being visible and the user being around, not window focus alone
// (issue 14.5): two windows side by side are both watched; a visible page left alone is not.
import { describe, expect, it } from 'vitest';
import { Attention, ATTENTION_MS } from '../../../../renderer/src/lib/attention.js';

function setup() {
  const page = { visible: true, now: 1_000_000 };
  const attention = new Attention({ visible: () => page.visible, now: () => page.now });
  let attended = 0;
  attention.onAttend(() => attended++);
  return { page, attention, attended: () => attended };
}

describe('Attention', () => {
  it('a visible page is watched while the user is around, without needing focus', () => {
    const { page, attention } = setup();
    expect(attention.attending()).toBe(true);
    page.now += ATTENTION_MS - 1;
    expect(attention.attending()).toBe(true);
    page.now += 1;
    expect(attention.attending()).toBe(false);
  });

  it('a hidden page is never watched', () => {
    const { page, attention } = setup();
    page.visible = false;
    attention.activity();
    expect(attention.attending()).toBe(false);
  });

  it('the user coming back (activity, or the page shown) tells the listeners, once per return', () => {
    const { page, attention, attended } = setup();
    attention.activity();
    expect(attended()).toBe(0); // already watched: nothing new
    page.now += ATTENTION_MS;
    attention.activity();
    expect(attended()).toBe(1);
    page.visible = false;
    page.now += 10;
    page.visible = true;
    attention.shown();
    expect(attended()).toBe(2);
  });
});
