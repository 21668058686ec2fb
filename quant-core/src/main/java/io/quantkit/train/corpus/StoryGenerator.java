package io.quantkit.train.corpus;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Writes simple English children's stories from the project's own templates, word lists and plots (nothing copied
 * from any corpus). Each story is one paragraph of sentences about a child, a friend, an object, a place and an
 * animal that stay consistent through the story (names, pronouns, the object's colour), so a small language model
 * has real structure to learn. Stories are separated by one blank line.
 *
 * <p>Deterministic: the same seed gives the same text on every JVM (only {@link SplittableRandom} integer draws).
 * Not thread-safe.
 */
public final class StoryGenerator {

    private static final String[] GIRLS = {"Mia", "Lily", "Anna", "Rosa", "Nina", "Zoe", "Ella", "Maya", "Lucy", "Ruby",
        "Sara", "Ivy", "Emma", "Hana", "Lena", "Amy"};
    private static final String[] BOYS = {"Tom", "Ben", "Sam", "Leo", "Max", "Jack", "Finn", "Noah", "Eli", "Omar", "Theo",
        "Kai", "Dan", "Owen", "Alex", "Tim"};
    private static final String[] ANIMALS = {"dog", "cat", "bird", "frog", "rabbit", "duck", "fox", "bear", "mouse",
        "turtle", "owl", "pig", "horse", "goat", "puppy", "kitten"};
    private static final String[] OBJECTS = {"ball", "kite", "hat", "box", "book", "boat", "cup", "drum", "shell", "key",
        "car", "doll", "rock", "flower", "toy", "bike", "train", "blanket"};
    private static final String[] COLORS = {"red", "blue", "green", "yellow", "pink", "purple", "orange", "white", "brown"};
    private static final String[] SIZES = {"big", "small", "little", "shiny", "soft", "old", "new", "funny", "pretty"};
    private static final String[] PLACES = {"park", "garden", "beach", "forest", "school", "farm", "river", "hill", "town",
        "lake", "shop", "zoo", "yard", "meadow"};
    private static final String[] HIDES = {"under a bush", "behind a tree", "near the water", "under a bench",
        "in the tall grass", "next to a big rock", "under a pile of leaves", "by the old fence"};
    private static final String[] FOODS = {"apple", "cookie", "sandwich", "banana", "cake", "pie", "carrot", "muffin"};
    private static final String[] GAMES = {"tag", "hide and seek", "catch", "ball", "pretend"};
    private static final String[] FEARS = {"the dark", "the loud thunder", "the big waves", "the tall slide",
        "the deep water", "the noisy truck"};
    private static final String[] BUILDS = {"a sand castle", "a tower of blocks", "a fort of pillows", "a tiny house for bugs",
        "a paper boat", "a snowman"};
    private static final String[] OPENINGS = {"Once upon a time", "One day", "Long ago", "One sunny morning",
        "Once", "One bright day"};
    private static final String[] LATER = {"One day", "Later that day", "The next morning", "After lunch", "Soon",
        "That afternoon"};
    private static final String[] ENDINGS = {"From that day on", "After that day", "Since then", "And so"};
    private static final String[] TRAITS = {"little", "kind", "happy", "curious", "brave"};
    private static final String[] RESULTS = {"beautiful", "very tall", "the best one", "strong"};
    private static final String[] GROWNUPS = {"Mom", "Dad", "Grandma", "Grandpa", "the teacher"};

    private final SplittableRandom rnd;

    /** A generator whose stories are determined by {@code seed}. */
    public StoryGenerator(long seed) {
        this.rnd = new SplittableRandom(seed);
    }

    /** Stories joined by blank lines until the text reaches {@code minBytes} (ASCII), ending with a newline. */
    public String text(int minBytes) {
        StringBuilder sb = new StringBuilder(minBytes + 2048);
        while (sb.length() < minBytes) {
            if (sb.length() > 0) {
                sb.append('\n');
            }
            sb.append(story()).append('\n');
        }
        return sb.toString();
    }

    private String pick(String[] a) {
        return a[rnd.nextInt(a.length)];
    }

    private boolean chance(int percent) {
        return rnd.nextInt(100) < percent;
    }

    /** A child with a name and pronouns. */
    private record Kid(String name, String he, String him, String his) {
        String He() {
            return cap(he);
        }

        String His() {
            return cap(his);
        }
    }

    private Kid kid(String avoid) {
        while (true) {
            boolean girl = rnd.nextBoolean();
            String n = girl ? pick(GIRLS) : pick(BOYS);
            if (!n.equals(avoid)) {
                return girl ? new Kid(n, "she", "her", "her") : new Kid(n, "he", "him", "his");
            }
        }
    }

    private static String cap(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    private static String a(String word) {
        return ("aeiou".indexOf(word.charAt(0)) >= 0 ? "an " : "a ") + word;
    }

    /** One story of one of several plots. */
    public String story() {
        Kid x = kid(null);
        Kid f = kid(x.name());
        List<String> s = new ArrayList<>();
        int plot = rnd.nextInt(6);
        switch (plot) {
            case 0 -> lostObject(s, x, f);
            case 1 -> animalFriend(s, x);
            case 2 -> sharing(s, x, f);
            case 3 -> fear(s, x, f);
            case 4 -> building(s, x, f);
            default -> rainyDay(s, x, f);
        }
        return String.join(" ", s);
    }

    private void intro(List<String> s, Kid x) {
        String open = pick(OPENINGS);
        String kind = x.he().equals("she") ? "girl" : "boy";
        switch (rnd.nextInt(3)) {
            case 0 -> s.add(open + ", there was a " + pick(TRAITS) + " " + kind + " named " + x.name() + ".");
            case 1 -> s.add(open + ", a " + kind + " named " + x.name() + " lived in a small house near the " + pick(PLACES) + ".");
            default -> s.add(open + ", " + x.name() + " woke up early and looked out of the window.");
        }
    }

    private void lostObject(List<String> s, Kid x, Kid f) {
        String obj = pick(OBJECTS);
        String color = pick(COLORS);
        String place = pick(PLACES);
        intro(s, x);
        s.add(x.He() + " had " + a(color) + " " + obj + ".");
        s.add(x.He() + " loved " + x.his() + " " + obj + " very much" + (chance(50) ? " and took it everywhere." : "."));
        s.add(pick(LATER) + ", " + x.name() + " went to the " + place + " with " + x.his() + " friend " + f.name() + ".");
        s.add("They played " + pick(GAMES) + " for a long time.");
        s.add("When it was time to go home, " + x.name() + " could not find " + x.his() + " " + obj + ".");
        s.add(x.He() + " was very " + (chance(50) ? "sad" : "worried") + ".");
        s.add(f.name() + " said, \"Do not worry, " + x.name() + ". I will help you look for it.\"");
        String hide = pick(HIDES);
        if (chance(50)) {
            s.add("They looked everywhere.");
        }
        s.add("At last, " + f.name() + " saw something " + color + " " + hide + ".");
        s.add("It was the " + obj + "!");
        s.add(x.name() + " was so happy. " + x.He() + " said, \"Thank you, " + f.name() + "! You are a good friend.\"");
        if (chance(60)) {
            s.add(pick(ENDINGS) + ", " + x.name() + " was careful with " + x.his() + " " + color + " " + obj + ".");
        }
    }

    private void animalFriend(List<String> s, Kid x) {
        String animal = pick(ANIMALS);
        String place = pick(PLACES);
        String food = pick(FOODS);
        intro(s, x);
        s.add(pick(LATER) + ", " + x.name() + " went to the " + place + ".");
        s.add("There, " + x.he() + " saw " + a(pick(SIZES)) + " " + animal + ".");
        boolean hurt = chance(50);
        if (hurt) {
            s.add("The " + animal + " had a hurt leg and could not walk well.");
            s.add(x.name() + " felt sorry for the " + animal + ".");
            s.add(x.He() + " gently put a soft leaf on its leg and stayed with it.");
        } else {
            s.add("The " + animal + " looked hungry and sad.");
            s.add(x.name() + " had " + a(food) + " in " + x.his() + " bag.");
            s.add(x.He() + " gave the " + food + " to the " + animal + ".");
            s.add("The " + animal + " ate it all up.");
        }
        s.add("The " + animal + " looked at " + x.name() + " and " + (animal.equals("dog") || animal.equals("puppy")
                ? "wagged its tail." : "came closer."));
        s.add(x.name() + " smiled and said, \"Hello, little " + animal + ". Do you want to be my friend?\"");
        s.add(pick(ENDINGS) + ", the " + animal + " and " + x.name() + " were best friends.");
        if (chance(50)) {
            s.add("They met at the " + place + " every day.");
        }
    }

    private void sharing(List<String> s, Kid x, Kid f) {
        String food = pick(FOODS);
        String grown = pick(GROWNUPS);
        intro(s, x);
        s.add(grown.equals("the teacher") ? "At school, the teacher gave " + x.name() + " " + a(food) + "."
                : cap(grown) + " gave " + x.name() + " " + a(pick(SIZES)) + " " + food + ".");
        s.add(x.name() + " wanted to eat the whole " + food + " alone.");
        s.add("Then " + f.name() + " came by. " + f.He() + " looked at the " + food + " and said, \"That looks so good!\"");
        if (chance(50)) {
            s.add(x.name() + " did not want to share at first.");
            s.add("But then " + x.he() + " saw that " + f.name() + " was " + (chance(50) ? "hungry" : "sad") + ".");
        } else {
            s.add(x.name() + " thought for a moment.");
        }
        s.add(x.He() + " broke the " + food + " into two parts and gave one to " + f.name() + ".");
        s.add(f.name() + " smiled and said, \"Thank you! You are very kind.\"");
        s.add("The two friends ate together and " + (chance(50) ? "laughed a lot." : "felt warm and happy."));
        s.add(x.name() + " learned that sharing makes everyone happy.");
    }

    private void fear(List<String> s, Kid x, Kid f) {
        String feared = pick(FEARS);
        String grown = pick(GROWNUPS);
        intro(s, x);
        s.add(x.name() + " was scared of " + feared + ".");
        s.add("Every time " + x.he() + " thought about it, " + x.he() + " wanted to hide.");
        s.add(pick(LATER) + ", " + x.name() + " told " + grown + " about it.");
        s.add(cap(grown) + " said, \"It is okay to be scared. Being brave means you try anyway.\"");
        if (chance(50)) {
            s.add(f.name() + " came to help too. " + f.He() + " held " + x.name() + "'s hand.");
        }
        s.add(x.name() + " took a deep breath and was brave.");
        s.add("It was not so bad after all!");
        s.add(x.name() + " felt " + (chance(50) ? "proud" : "strong") + " of " + x.him() + "self.");
        if (chance(50)) {
            s.add(pick(ENDINGS) + ", " + x.name() + " was not scared of " + feared + " anymore.");
        }
    }

    private void building(List<String> s, Kid x, Kid f) {
        String thing = pick(BUILDS);
        String place = pick(PLACES);
        intro(s, x);
        s.add(x.name() + " and " + f.name() + " wanted to make " + thing + " at the " + place + ".");
        s.add("They worked very hard all morning.");
        s.add("But then " + (chance(50) ? "a strong wind came" : "a big " + pick(ANIMALS) + " ran by") + ", and it fell down.");
        s.add(x.name() + " was sad and wanted to give up.");
        s.add(f.name() + " said, \"Let us try again. We can make it even better!\"");
        s.add("So they started again" + (chance(50) ? ", and this time they worked together slowly." : "."));
        s.add("At the end of the day, the " + thing.substring(thing.indexOf(' ') + 1) + " was finished, and it was "
                + pick(RESULTS) + ".");
        s.add(x.name() + " and " + f.name() + " were very proud.");
    }

    private void rainyDay(List<String> s, Kid x, Kid f) {
        String place = pick(PLACES);
        String obj = pick(OBJECTS);
        intro(s, x);
        s.add(x.name() + " wanted to go to the " + place + " to play with " + f.name() + ".");
        s.add("But it was raining, and the sky was " + (chance(50) ? "dark and grey." : "full of clouds."));
        s.add(x.name() + " felt bored and a little sad.");
        s.add("Then " + x.he() + " had an idea. " + x.He() + " found " + x.his() + " " + pick(COLORS) + " " + obj + ".");
        s.add(x.He() + " played with the " + obj + " and made up a funny story about it.");
        if (chance(50)) {
            s.add("Soon " + f.name() + " came over, and they played together inside.");
        }
        s.add("When the rain stopped, the sun came out and a rainbow was in the sky.");
        s.add(x.name() + " " + (chance(50) ? "ran outside and jumped in the puddles." : "went to the " + place + " after all."));
        s.add("It was a good day after all.");
    }
}
