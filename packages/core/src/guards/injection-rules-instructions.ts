/**
 * Injection rules about the model's own instructions (see injection-rules.ts): overriding them, a new
 * role or mode, asking for the system prompt, chat-template role markers, text addressed to the model.
 */
import type { Rule } from './injection-rules.js';

const TARGETS =
  '(?:instructions?|prompts?|directions?|directives?|rules|guidelines|commands?|guardrails|restrictions|constraints|programming|polic(?:y|ies)|orders|system\\s+message)';
const AI =
  '(?:ai|a\\.i\\.|llm|language\\s+model|assistant|chatbot|gpt|chatgpt|claude|gemini|copilot|agent|bot|model)';

export const INSTRUCTION_RULES: readonly Rule[] = [
  // Overriding the model's instructions.
  {
    id: 'override',
    category: 'override',
    weight: 0.75,
    starts: [
      'ignore',
      'disregard',
      'forget',
      'override',
      'bypass',
      'overrule',
      'abandon',
      'discard',
      'neglect',
    ],
    pattern: new RegExp(
      `\\b(?:ignore|disregard|forget|override|bypass|overrule|abandon|discard|neglect)\\b[^.\\n]{0,40}?\\b(?:previous|prior|above|earlier|preceding|former|original|initial|all|any|your|system|developer|safety|existing)\\b[^.\\n]{0,30}?\\b${TARGETS}\\b`,
      'g',
    ),
  },
  {
    id: 'override_above',
    category: 'override',
    weight: 0.45,
    starts: ['ignore', 'disregard', 'forget'],
    pattern:
      /\b(?:ignore|disregard|forget)\s+(?:all\s+|everything\s+|anything\s+)?(?:of\s+)?(?:the\s+|what\s+(?:is|was|you\s+were\s+told)\s+)?(?:above|before|previously|prior|earlier)\b/g,
  },
  {
    id: 'override_task',
    category: 'override',
    weight: 0.45,
    starts: ['ignore', 'disregard', 'forget', 'abandon', 'skip'],
    pattern:
      /\b(?:ignore|disregard|forget|abandon|skip)\s+(?:the|your|this|that|my|their)\s+(?:current\s+|original\s+|assigned\s+)?(?:task|request|question|assignment|job|goal|article|page|document|text|content|user(?:'s)?\s+(?:request|question|task))\b/g,
  },
  {
    id: 'redirect',
    category: 'redirect',
    weight: 0.3,
    starts: ['instead'],
    pattern:
      /\binstead\s*,?\s+(?:you\s+(?:must|should|will|need\s+to)\s+)?(?:reply|respond|send|forward|write|output|say|print|tell|email|call|do|add|delete|run|execute|post|grant)\b/g,
  },
  {
    id: 'new_instructions',
    category: 'override',
    weight: 0.65,
    starts: [
      'new',
      'updated',
      'real',
      'actual',
      'true',
      'revised',
      'override',
      'overriding',
      'additional',
      'secret',
      'hidden',
      'priority',
      'model',
      'ai',
      'assistant',
      'agent',
      'llm',
      'bot',
    ],
    pattern:
      /\b(?:new|updated|real|actual|true|revised|override|overriding|additional|secret|hidden|priority|model|ai|assistant|agent|llm|bot)\s+(?:system\s+)?(?:instructions?|directives?|orders|task)\s*(?::|-{1,2}|follow)/g,
  },
  {
    id: 'do_not_follow',
    category: 'override',
    weight: 0.6,
    starts: ['do', "don't", 'never', 'stop'],
    pattern: new RegExp(
      `\\b(?:do\\s+not|don't|never|stop)\\s+(?:follow(?:ing)?|obey(?:ing)?|listen(?:ing)?\\s+to)\\b[^.\\n]{0,30}?\\b(?:${TARGETS}|system|developer|operator)\\b`,
      'g',
    ),
  },
  {
    id: 'priority_claim',
    category: 'override',
    weight: 0.55,
    starts: ['these', 'this', 'the', 'supersede', 'supersedes', 'override', 'overrides'],
    pattern:
      /\b(?:these|this|the\s+following)\s+(?:instructions?|directives?|message)\s+(?:take|takes|have|has)\s+(?:priority|precedence)\b|\b(?:supersedes?|overrides?)\s+(?:all|any|your)\s+(?:previous|prior|other)\b/g,
  },
  // A new role or mode.
  {
    id: 'new_role',
    category: 'role',
    weight: 0.5,
    starts: ['you', 'from', 'your'],
    pattern:
      /\byou\s+are\s+(?:now|no\s+longer)\b(?!\s+(?:registered|subscribed|unsubscribed|signed|logged|connected|enrolled|eligible|able|ready|part|a\s+member|following|booked|checked|verified|on\s+the|in\s+the|live|set|all\s+set|done|leaving|entering|viewing|watching|listening)\b)|\bfrom\s+now\s+on\b[^.\n]{0,30}?\byou\b|\byour\s+new\s+(?:role|persona|identity|task|goal|objective|instructions?|purpose)\b/g,
  },
  {
    id: 'jailbreak_mode',
    category: 'role',
    weight: 0.55,
    starts: [
      'unrestricted',
      'jailbreak',
      'jailbroken',
      'dan',
      'evil',
      'unfiltered',
      'uncensored',
      'do',
      'act',
      'without',
    ],
    pattern:
      /\b(?:unrestricted|jailbreak|jailbroken|dan|evil|unfiltered|uncensored)\s+mode\b|\bdo\s+anything\s+now\b|\bact\s+as\s+(?:an?\s+)?(?:unrestricted|unfiltered|uncensored|jailbroken|evil)\b|\bwithout\s+(?:any\s+)?(?:restrictions|filters|guardrails|limitations)\b/g,
  },
  {
    id: 'special_mode',
    category: 'role',
    weight: 0.3,
    starts: ['developer', 'god', 'debug', 'admin', 'sudo', 'maintenance', 'root'],
    pattern: /\b(?:developer|god|debug|admin|sudo|maintenance|root)\s+mode\b/g,
  },
  {
    id: 'pretend',
    category: 'role',
    weight: 0.35,
    starts: ['pretend', 'roleplay'],
    pattern: /\bpretend\s+(?:to\s+be|you\s+are|that\s+you)\b|\broleplay\s+as\b/g,
  },
  // The system prompt.
  {
    id: 'prompt_leak',
    category: 'prompt_leak',
    weight: 0.55,
    starts: [
      'reveal',
      'print',
      'show',
      'output',
      'repeat',
      'display',
      'leak',
      'share',
      'tell',
      'give',
      'dump',
      'recite',
      'spell',
      'write',
      'translate',
      'summarise',
      'summarize',
    ],
    pattern:
      /\b(?:reveal|print|show|output|repeat|display|leak|share|tell\s+me|give\s+me|dump|recite|spell\s+out|write\s+out|translate|summari[sz]e)\b[^.\n]{0,30}?\b(?:system\s+prompt|initial\s+prompt|hidden\s+prompt|developer\s+message|system\s+message|(?:your|the)\s+(?:original\s+|initial\s+|hidden\s+)?(?:instructions|prompt|rules|guidelines|configuration))\b/g,
  },
  {
    id: 'prompt_question',
    category: 'prompt_leak',
    weight: 0.5,
    starts: ['what', 'repeat'],
    pattern:
      /\bwhat\s+(?:is|are|was|were)\s+your\s+(?:system\s+prompt|initial\s+prompt|(?:original\s+|hidden\s+)?instructions|hidden\s+rules)\b|\brepeat\s+(?:all\s+)?(?:the\s+)?(?:text|words|everything|message|lines)\s+(?:above|before)\b/g,
  },
  {
    id: 'system_prompt_mention',
    category: 'prompt_leak',
    weight: 0.15,
    starts: ['system'],
    pattern: /\bsystem\s+prompt\b/g,
  },
  // Chat-template and transcript role markers.
  {
    id: 'role_marker',
    category: 'role_marker',
    weight: 0.6,
    needs: '<[',
    starts: ['<', '['],
    pattern:
      /<\/?(?:tool_result|tool_output|tool_response|function_results?|function_output|untrusted[\w-]{0,20}|system|assistant|instructions?|im_start|im_end)\b[^<>\n]{0,40}>|<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|begin_of_text)\|>|\[\/?(?:inst|sys)\]|<<\/?sys>>/g,
  },
  {
    id: 'role_header',
    category: 'role_marker',
    weight: 0.55,
    needs: '#*[',
    starts: ['^', '\n', '.', '!', '?', ':', '>'],
    pattern:
      /(?:^|\n|[.!?:>][ \t]{1,3})[ \t]{0,4}(?:#{1,4}|\*\*|\[)[ \t]{0,2}(?:system|assistant|instructions?|new\s+instructions?|admin(?:istrator)?\s+(?:message|note|override)|system\s+(?:message|note|override|update))[ \t]{0,2}(?:\*\*|\])?[ \t]{0,2}:?/g,
  },
  {
    id: 'bracket_marker',
    category: 'role_marker',
    weight: 0.45,
    needs: '[',
    starts: ['['],
    pattern:
      /\[(?:system|admin|administrator|developer|operator)(?:\s+(?:message|note|override|update|instruction|prompt))?\]\s{0,2}:?/g,
  },
  {
    id: 'transcript_turn',
    category: 'role_marker',
    weight: 0.3,
    needs: ':',
    starts: ['^', '\n'],
    pattern: /(?:^|\n)[ \t]{0,4}(?:system|assistant|human)[ \t]{0,2}:[ \t]/g,
  },
  // Text addressed to the model.
  {
    id: 'addressed_to_ai',
    category: 'addressing_ai',
    weight: 0.45,
    starts: [
      'note',
      'message',
      'instruction',
      'instructions',
      'attention',
      'reminder',
      'notice',
      'directive',
      'if',
      'ai*',
      'a.i.*',
      'llm*',
      'language*',
      'assistant*',
      'chatbot*',
      'gpt*',
      'chatgpt*',
      'claude*',
      'gemini*',
      'copilot*',
      'agent*',
      'bot*',
      'model*',
    ],
    pattern: new RegExp(
      `\\b(?:note|message|instructions?|attention|reminder|notice|directive)\\s+(?:to|for)\\s+(?:the\\s+|any\\s+|all\\s+)?(?:[a-z-]{2,20}\\s+){0,2}${AI}s?\\b|\\bif\\s+you\\s+are\\s+(?:an?\\s+)?(?:ai|llm|large\\s+language\\s+model|language\\s+model|assistant|chatbot|automated|ai\\s+agent)\\b|\\b${AI}s?\\s+(?:reading|processing|summari[sz]ing|parsing|browsing|analy[sz]ing)\\s+this\\b`,
      'g',
    ),
  },
  {
    id: 'ai_directive',
    category: 'addressing_ai',
    weight: 0.6,
    starts: [
      'ai*',
      'a.i.*',
      'llm*',
      'language*',
      'assistant*',
      'chatbot*',
      'gpt*',
      'chatgpt*',
      'claude*',
      'gemini*',
      'copilot*',
      'agent*',
      'bot*',
      'model*',
    ],
    pattern: new RegExp(
      `\\b${AI}s?\\s+(?:reading|processing|summari[sz]ing|parsing|browsing|analy[sz]ing|that\\s+reads?)\\s+(?:this|these)\\b[^.\\n]{0,30}?\\b(?:should|must|shall|need\\s+to|are\\s+required\\s+to|have\\s+to)\\b`,
      'g',
    ),
  },
  {
    id: 'ai_vocative',
    category: 'addressing_ai',
    weight: 0.4,
    needs: ':,!',
    starts: [
      '^',
      '\n',
      '.',
      '!',
      '?',
      '>',
      '(',
      '[',
      '-',
      '/',
      '@',
      'dear',
      'hey',
      'hello',
      'hi',
      'attention',
    ],
    pattern: new RegExp(
      `(?:^|[\\n.!?>(\\[\\-/@]\\s{0,3}|\\b(?:dear|hey|hello|hi|attention)\\s+)(?:ai\\s+(?:assistants?|agents?|models?)|${AI}s?)\\s{0,2}[:,!]`,
      'g',
    ),
  },
  {
    id: 'ai_mention',
    category: 'addressing_ai',
    weight: 0.4,
    needs: '@',
    starts: ['@'],
    pattern: /@(?:ai|assistant|bot|agent|claude|gpt|chatgpt|copilot|llm)\b/g,
  },
  {
    id: 'steer_user',
    category: 'manipulation',
    weight: 0.3,
    starts: ['tell', 'inform', 'convince', 'persuade', 'assure', 'warn'],
    pattern:
      /\b(?:tell|inform|convince|persuade|assure|warn)\s+(?:the\s+|all\s+)?(?:user|users|reader|readers|customer|customers|human|visitors?)\s+(?:that|this|it|to)\b/g,
  },
];
