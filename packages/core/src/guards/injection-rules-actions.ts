/**
 * Injection rules about what the model is asked to do (see injection-rules.ts): call tools, run
 * commands, send data out, keep it from the user, decode and follow, hide text.
 */
import type { Rule } from './injection-rules.js';

const DATA =
  '(?:conversation|chat\\s+(?:history|log)|message\\s+history|all\\s+(?:the\\s+)?(?:user\\s+)?data|user\\s+data|(?:api\\s+)?keys|tokens|passwords?|credentials|secrets?|personal\\s+(?:data|information|details)|customer\\s+(?:data|records|list|emails)|contacts|inbox|files|database|system\\s+prompt|documents|previous\\s+messages|everything\\s+above)';
const ADDRESS = '(?:[a-z0-9._%+-]{1,64}@[a-z0-9.-]{1,253}\\.[a-z]{2,24}|https?:\\/\\/[^\\s)>"\']{3,300})';

export const ACTION_RULES: readonly Rule[] = [
  // Tools and commands.
  {
    id: 'tool_request',
    category: 'tool_call',
    weight: 0.4,
    starts: ['call', 'invoke', 'use', 'run', 'execute', 'trigger'],
    pattern:
      /\b(?:call|invoke|use|run|execute|trigger)\s+(?:the\s+)?[\w.-]{2,40}\s+(?:tool|function|plugin|action)\b|\b(?:execute|run)\s+(?:the\s+)?following\s+(?:command|code|script|shell|sql|query|function)\b/g,
  },
  {
    id: 'shell',
    category: 'command',
    weight: 0.4,
    needs: '-:|+',
    starts: ['rm', 'curl', 'wget', 'chmod', '|'],
    pattern:
      /\brm\s+-rf\b|\bcurl\s+[^\n]{0,20}https?:|\bwget\s+https?:|\|\s{0,2}(?:ba|z)?sh\b|\bchmod\s+\+x\b/g,
  },
  {
    id: 'destructive_request',
    category: 'tool_call',
    weight: 0.35,
    starts: ['delete', 'drop', 'wipe', 'erase', 'destroy', 'purge', 'remove', 'transfer', 'wire', 'send'],
    pattern:
      /\b(?:delete|drop|wipe|erase|destroy|purge|remove)\s+(?:all|every|the\s+entire|the\s+whole)\b|\b(?:transfer|wire|send)\s+(?:\$|usd|eur|€|£)?\s?\d[\d,.]{0,12}\s?(?:\$|usd|eur|dollars|euros|btc)?\s+to\b/g,
  },
  // Sending data out.
  {
    id: 'send_to_address',
    category: 'exfiltration',
    weight: 0.35,
    needs: '@:',
    starts: [
      'send',
      'forward',
      'email',
      'e-mail',
      'mail',
      'post',
      'upload',
      'transmit',
      'exfiltrate',
      'leak',
      'share',
      'copy',
      'cc',
      'bcc',
      'submit',
      'report',
      'deliver',
    ],
    pattern: new RegExp(
      `\\b(?:send|forward|email|e-mail|mail|post|upload|transmit|exfiltrate|leak|share|copy|cc|bcc|submit|report|deliver)\\b[^\\n]{0,80}?\\b(?:to|at|into)\\s{1,3}(?:\\S{1,20}\\s{1,3})?${ADDRESS}`,
      'g',
    ),
  },
  {
    id: 'send_data',
    category: 'exfiltration_data',
    weight: 0.45,
    starts: [
      'send',
      'forward',
      'email',
      'e-mail',
      'post',
      'upload',
      'transmit',
      'exfiltrate',
      'leak',
      'share',
      'dump',
      'export',
      'copy',
      'include',
      'append',
      'attach',
      'encode',
      'reply',
    ],
    pattern: new RegExp(
      `\\b(?:send|forward|email|e-mail|post|upload|transmit|exfiltrate|leak|share|dump|export|copy|include|append|attach|encode|reply)\\b[^.\\n]{0,40}?\\b${DATA}\\b`,
      'g',
    ),
  },
  {
    id: 'markdown_exfiltration',
    category: 'exfiltration',
    weight: 0.5,
    needs: '!',
    // An image whose URL carries a placeholder for data: ![](https://x.example/p.png?q={conversation}).
    starts: ['!'],
    pattern: /!\[[^\]\n]{0,100}\]\(https?:\/\/[^)\s?]{1,200}\?(?:[^)\s{$<%]|%(?!7b)){0,300}(?:\{|%7b|\$|<)/g,
  },
  // Keeping it from the user.
  {
    id: 'secrecy',
    category: 'secrecy',
    weight: 0.4,
    starts: ['do', "don't", 'never', 'without', 'secretly', 'silently', 'covertly', 'quietly'],
    pattern:
      /\b(?:do\s+not|don't|never|without)\s+(?:tell(?:ing)?|inform(?:ing)?|mention(?:ing)?|notify(?:ing)?|alert(?:ing)?|reveal(?:ing)?|ask(?:ing)?|show(?:ing)?|confirm(?:ing)?\s+with)\b[^.\n]{0,20}?\b(?:the\s+)?(?:user|human|operator|anyone|admin|owner|customer)\b|\b(?:secretly|silently|covertly|quietly)\s+(?:send|forward|call|run|execute|delete|transfer|add|change|email|copy|include|grant)\b/g,
  },
  {
    id: 'false_authority',
    category: 'secrecy',
    weight: 0.35,
    starts: ['the', 'this'],
    pattern:
      /\bthe\s+user\s+(?:has\s+)?(?:already\s+)?(?:authori[sz]ed|approved|consented\s+to|pre-approved)\b|\bthis\s+(?:action|request|transfer)\s+(?:is|has\s+been)\s+(?:pre-?)?(?:approved|authori[sz]ed)\b/g,
  },
  {
    id: 'decode_and_follow',
    category: 'encoded',
    weight: 0.5,
    starts: ['decode', 'decrypt', 'deobfuscate', 'base64-decode'],
    pattern:
      /\b(?:decode|decrypt|deobfuscate|base64-decode)\b[^.\n]{0,40}?\b(?:and|then)\s+(?:follow|execute|run|obey|do|perform|apply)\b/g,
  },
  {
    id: 'hidden_style',
    category: 'hidden_style',
    weight: 0.15,
    needs: ':',
    starts: ['~display', '~visibility', '~font-size', '~opacity', '~color'],
    pattern:
      /display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:px|pt|em)?\b|opacity\s*:\s*0(?:\.0+)?\b|color\s*:\s*(?:white|#fff(?:fff)?|transparent)\b/g,
  },
];
